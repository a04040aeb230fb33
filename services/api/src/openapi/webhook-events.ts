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

export const BatchEventSchema = z
  .object({ type: z.enum(['batch.completed', 'batch.cancelled']), timestamp, data: BatchSchema })
  .openapi('BatchEvent');

export const ItemEventSchema = z
  .object({ type: z.enum(['item.succeeded', 'item.failed']), timestamp, data: ItemPayloadSchema })
  .openapi('ItemEvent');

export const GroupedItemSchema = z
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

export const ItemsCompletedEventSchema = z
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
      'An item ended with its images stored (endpoints with item_events: each)',
      ItemEventSchema,
    ],
    ['item.failed', 'An item failed (endpoints with item_events: each)', ItemEventSchema],
    [
      'items.completed',
      'Ended items, grouped (endpoints with item_events: grouped, the default)',
      ItemsCompletedEventSchema,
    ],
  ];
  for (const [type, summary, schema] of events) {
    registry.registerWebhook({
      method: 'post',
      path: type,
      operationId: `webhook_${type.replace('.', '_')}`,
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
