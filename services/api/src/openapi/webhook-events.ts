/**
 * @module The webhook event bodies (api.md "Webhooks") as the document's `webhooks` section: every
 * delivery is a POST of `{"type", "timestamp", "data"}` signed with Standard Webhooks headers.
 */
import { type OpenAPIHono, z } from '@hono/zod-openapi';

type OpenAPIRegistry = OpenAPIHono['openAPIRegistry'];

import { BatchSchema, ItemErrorSchema, ItemPayloadSchema } from './schemas.js';

const timestamp = z.string().openapi({
  format: 'date-time',
  description: 'When the event happened; the same on every retry',
});

const BatchEventSchema = z
  .object({ type: z.enum(['batch.completed', 'batch.cancelled']), timestamp, data: BatchSchema })
  .openapi('BatchEvent');

const ItemEventSchema = z
  .object({ type: z.enum(['item.succeeded', 'item.failed']), timestamp, data: ItemPayloadSchema })
  .openapi('ItemEvent');

const GroupedItemSchema = z
  .object({
    id: z.string(),
    custom_id: z.string(),
    status: z.string(),
    outputs: z.array(
      z.object({
        index: z.int(),
        key: z.string(),
        url: z.string(),
        content_type: z.string(),
        bytes: z.int(),
        sha256: z.string(),
      }),
    ),
    error: ItemErrorSchema.nullable(),
    cost_usd: z.number(),
    finished_at: z.string().nullable(),
  })
  .openapi('GroupedItem');

const ItemsCompletedEventSchema = z
  .object({
    type: z.literal('items.completed'),
    timestamp,
    data: z.object({
      batch_id: z.string(),
      batch_counts: BatchSchema.shape.counts.nullable(),
      count: z.int(),
      items: z.array(GroupedItemSchema),
    }),
  })
  .openapi('ItemsCompletedEvent');

const AttemptExhaustedEventSchema = z
  .object({
    type: z.literal('message.attempt.exhausted'),
    timestamp,
    data: z.object({
      delivery_id: z.string(),
      webhook_id: z
        .string()
        .openapi({ description: 'The `webhook-id` of the message that was not delivered' }),
      event_type: z.string(),
      batch_id: z.string(),
      endpoint_id: z.string().nullable().openapi({ description: "null for a batch's own webhook" }),
      attempts: z.int(),
      last_attempt: z.object({
        at: z.string(),
        status_code: z.int().nullable(),
        error: z.string().nullable(),
      }),
    }),
  })
  .openapi('AttemptExhaustedEvent');

const EndpointDisabledEventSchema = z
  .object({
    type: z.literal('endpoint.disabled'),
    timestamp,
    data: z.object({
      endpoint_id: z.string(),
      reason: z.enum(['gone', 'failing']),
      failing_since: z.string().nullable(),
      disabled_at: z.string(),
      delivery_id: z.string(),
    }),
  })
  .openapi('EndpointDisabledEvent');

const signatureHeaders = z.object({
  'webhook-id': z.string().openapi({ description: 'The same across retries of one event: dedupe on it' }),
  'webhook-timestamp': z.string().openapi({ description: 'Unix seconds of this attempt' }),
  'webhook-signature': z.string().openapi({
    description:
      'Space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per signing secret (two during a rotation)',
  }),
});

const answers = {
  200: { description: 'Any 2xx ends the delivery' },
  410: { description: 'Gone: the endpoint is disabled and no more events are sent' },
};

export function registerWebhooks(registry: OpenAPIRegistry): void {
  const events: [string, string, z.ZodType][] = [
    ['batch.completed', 'Every item of the batch ended', BatchEventSchema],
    ['batch.cancelled', 'The batch was cancelled and its running items finished', BatchEventSchema],
    [
      'item.succeeded',
      'An item ended with its images stored (targets subscribed to item.succeeded)',
      ItemEventSchema,
    ],
    ['item.failed', 'An item failed (targets subscribed to item.failed)', ItemEventSchema],
    [
      'items.completed',
      'Ended items, grouped (targets subscribed to items.completed)',
      ItemsCompletedEventSchema,
    ],
    [
      'message.attempt.exhausted',
      "A delivery to another of the tenant's targets gave up after its last attempt (tenant endpoints only)",
      AttemptExhaustedEventSchema,
    ],
    [
      'endpoint.disabled',
      "Another of the tenant's endpoints was disabled: it answered 410, or failed for 5 days (tenant endpoints only)",
      EndpointDisabledEventSchema,
    ],
  ];
  for (const [type, summary, schema] of events) {
    registry.registerWebhook({
      method: 'post',
      path: type,
      operationId: `webhook_${type.replaceAll('.', '_')}`,
      tags: ['webhooks'],
      summary,
      security: [],
      request: {
        headers: signatureHeaders,
        body: { required: true, content: { 'application/json': { schema } } },
      },
      responses: answers,
    });
  }
}
