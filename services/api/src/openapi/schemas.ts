/**
 * @module Response bodies of the API as named zod schemas: the OpenAPI document's components. Each
 * describes what the server answers today (tests validate every response against the document).
 */
import { z } from '@hono/zod-openapi';
import {
  itemErrorCodes,
  itemStatuses,
  MAX_QA_REGENERATIONS,
  qaCheckNames,
  reviewStatuses,
  sizeSchema,
  webhookEventTypeSchema,
} from '@pixelmill/core';

const time = z.string().openapi({ format: 'date-time', example: '2026-11-24T10:00:00.000Z' });
const nullableTime = time.nullable();

// A fresh schema of the same shape: core's zod schemas were built before zod-openapi extended zod.
const MetadataSchema = z
  .record(z.string().max(64), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
  .openapi('Metadata', {
    description: 'Client metadata, echoed back (at most 32 keys).',
    example: { campaign: 'fall' },
  });

const FieldProblemSchema = z
  .object({
    path: z.string().openapi({ example: 'items[3].prompt' }),
    message: z.string().openapi({ example: 'Required' }),
  })
  .openapi('FieldProblem');

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({
        description:
          'invalid_request, unknown_model, model_unavailable, unauthorized, forbidden, not_found, idempotency_conflict, conflict, payload_too_large, unsupported_media_type, service_unavailable, endpoint_disabled, limit_exceeded, tenant_quota_exceeded, internal_error',
        example: 'invalid_request',
      }),
      message: z.string().openapi({ example: 'Invalid request: items[3].prompt Required' }),
      details: z.array(FieldProblemSchema),
    }),
  })
  .openapi('Error', {
    example: {
      error: {
        code: 'invalid_request',
        message: 'Invalid request: items[3].prompt Required',
        details: [{ path: 'items[3].prompt', message: 'Required' }],
      },
    },
  });

const counts = z.object({
  total: z.int(),
  queued: z.int(),
  running: z.int(),
  succeeded: z.int(),
  failed: z.int(),
  cancelled: z.int(),
  expired: z.int(),
});

export const BatchSchema = z
  .object({
    id: z.string(),
    object: z.literal('batch'),
    status: z.enum(['queued', 'running', 'cancelling', 'completed', 'cancelled']),
    model: z.string(),
    counts: counts.openapi('BatchCounts'),
    images: z.object({ requested: z.int(), generated: z.int() }),
    cost: z.object({ estimated_usd: z.number(), actual_usd: z.number() }),
    created_at: time,
    completed_at: nullableTime,
    manifest_url: z.string().nullable().openapi({ description: 'Presigned GET URL of manifest.jsonl' }),
    manifest_key: z.string().nullable(),
    webhook: z
      .object({
        url: z.string(),
        events: z.array(webhookEventTypeSchema),
        secret: z.string().optional().openapi({ description: 'Only in the 201 that generated it' }),
      })
      .nullable(),
    output: z.object({
      prefix: z.string(),
      format: z.enum(['png', 'jpeg', 'webp']),
      key_template: z.string(),
      root: z.string(),
    }),
    priority: z.enum(['high', 'normal', 'low']),
    mode: z.enum(['realtime', 'economy', 'auto']).openapi({
      description: "realtime: the providers' realtime APIs; economy: their batch APIs at batch prices",
    }),
    metadata: MetadataSchema,
    expires_at: nullableTime,
    dedupe: z.boolean(),
    results_key: z.string().nullable(),
    results_url: z.string().nullable().openapi({ description: 'Presigned GET URL of results.csv' }),
    qa: z
      .object({
        on_flag: z.enum(['keep', 'regenerate']),
        max_regenerations: z.int().min(0).max(MAX_QA_REGENERATIONS),
      })
      .openapi('QaPolicy', {
        description:
          'What a flagged output leads to: keep it, or generate it again as a new version (at most max_regenerations times per item); regenerations are paid and not in cost.estimated_usd',
      }),
  })
  .openapi('Batch', {
    example: {
      id: 'batch_01JD6Z5V3X2Q8R7T9Y4W1M0N2P',
      object: 'batch',
      status: 'queued',
      model: 'gemini-3-pro-image',
      counts: { total: 1, queued: 1, running: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0 },
      images: { requested: 2, generated: 0 },
      cost: { estimated_usd: 0.268, actual_usd: 0 },
      created_at: '2026-11-24T10:00:00.000Z',
      completed_at: null,
      manifest_url: null,
      manifest_key: null,
      webhook: null,
      output: {
        prefix: 'catalog/fall/',
        format: 'png',
        key_template: '{prefix}{batch_id}/{custom_id}/{index}.{ext}',
        root: 'acme/',
      },
      priority: 'normal',
      mode: 'realtime',
      metadata: { campaign: 'fall' },
      expires_at: null,
      dedupe: false,
      results_key: null,
      results_url: null,
      qa: { on_flag: 'keep', max_regenerations: 0 },
    },
  });

const OutputQaSchema = z
  .object({
    status: z.enum(['passed', 'flagged']),
    checks: z.array(
      z.object({
        name: z.enum(qaCheckNames),
        passed: z.boolean(),
        value: z.union([z.number(), z.string()]).nullable(),
        of: z
          .object({ custom_id: z.string(), index: z.int() })
          .optional()
          .openapi({ description: '`duplicate` only: the earlier output this one nearly repeats' }),
      }),
    ),
    dhash: z.string().nullable(),
  })
  .openapi('OutputQa');

const ItemOutputSchema = z
  .object({
    index: z.int(),
    key: z.string(),
    url: z.string().optional().openapi({ description: 'Presigned GET URL' }),
    content_type: z.string(),
    width: z.int(),
    height: z.int(),
    bytes: z.int(),
    sha256: z.string(),
    thumbnail_key: z.string().optional(),
    thumbnail_url: z.string().optional(),
    model: z.string().optional(),
    qa: OutputQaSchema.optional().openapi({ description: 'Automatic checks run when the output was stored' }),
  })
  .openapi('ItemOutput');

export const ItemErrorSchema = z
  .object({ code: z.enum(itemErrorCodes), message: z.string(), retryable: z.boolean() })
  .openapi('ItemError');

const ItemReviewSchema = z
  .object({
    status: z.enum(reviewStatuses),
    by: z.string().nullable().openapi({
      description: "The reviewing API key's id (first 10 hex digits of its SHA-256), never the key",
    }),
    at: nullableTime,
    note: z.string().nullable(),
  })
  .openapi('ItemReview');

const VersionCauseSchema = z
  .union([
    z.object({ reason: z.literal('initial') }),
    z.object({
      reason: z.literal('qa_flag'),
      checks: z.array(z.enum(qaCheckNames)),
      indexes: z.array(z.int()),
    }),
    z.object({ reason: z.literal('requested'), by: z.string(), changed: z.array(z.string()) }),
  ])
  .openapi('VersionCause', {
    description:
      'Why a version exists: the first generation, flagged outputs regenerated by the batch qa policy (which checks, which outputs), or a regenerate request (by which key, which fields changed)',
  });

const versionFields = {
  version: z.int().min(1),
  cause: VersionCauseSchema,
  created_at: nullableTime,
  outputs: z.array(ItemOutputSchema),
};

const ItemVersionSchema = z.object({ ...versionFields, prompt: z.string() }).openapi('ItemVersion', {
  description: "One version of an item's outputs, with the prompt it was made from",
});
const ItemVersionPayloadSchema = z
  .object({ version: versionFields.version, cause: VersionCauseSchema, created_at: nullableTime })
  .openapi('ItemVersionPayload', { description: 'A version in events: GET the item for its outputs' });

const itemFields = {
  id: z.string(),
  object: z.literal('item'),
  batch_id: z.string(),
  custom_id: z.string(),
  status: z.enum(itemStatuses),
  attempts: z.int(),
  model: z.string(),
  provider: z.string().nullable(),
  size: sizeSchema,
  aspect_ratio: z.string().nullable(),
  n: z.int(),
  metadata: MetadataSchema,
  lane: z.enum(['realtime', 'economy']).openapi({
    description: 'The lane obtaining the images: a provider batch job (economy) or the realtime APIs',
  }),
  outputs: z.array(ItemOutputSchema),
  error: ItemErrorSchema.nullable(),
  reused_from: z.object({ batch_id: z.string(), item_id: z.string(), custom_id: z.string() }).nullable(),
  cost_usd: z.number(),
  started_at: nullableTime,
  finished_at: nullableTime,
  qa_status: z.enum(['passed', 'flagged']).nullable().openapi({
    description: 'The chosen version: flagged when any output was flagged; null when none was checked',
  }),
  review: ItemReviewSchema,
  version: z.int().min(1).openapi({ description: "The newest version's number" }),
  chosen: z
    .object({ version: z.int().min(1), index: z.int().nullable() })
    .openapi({ description: 'The chosen version (outputs shows it) and variant (null: every variant)' }),
};

const itemExample = {
  id: 'item_01JD6Z5V3X2Q8R7T9Y4W1M0N2Q',
  object: 'item' as const,
  batch_id: 'batch_01JD6Z5V3X2Q8R7T9Y4W1M0N2P',
  custom_id: 'sku-1001-front',
  status: 'succeeded' as const,
  attempts: 1,
  model: 'gemini-3-pro-image',
  provider: 'gemini',
  size: '2K' as const,
  aspect_ratio: '4:3',
  n: 1,
  metadata: { sku: '1001' },
  lane: 'realtime' as const,
  outputs: [
    {
      index: 0,
      key: 'acme/catalog/fall/batch_01JD6Z5V3X2Q8R7T9Y4W1M0N2P/sku-1001-front/0.png',
      url: 'https://bucket.example/acme/catalog/fall/batch_01JD6Z5V3X2Q8R7T9Y4W1M0N2P/sku-1001-front/0.png?X-Amz-Signature=…',
      content_type: 'image/png',
      width: 2048,
      height: 1536,
      bytes: 123456,
      sha256: 'a3f1c2…',
    },
  ],
  error: null,
  reused_from: null,
  cost_usd: 0.134,
  started_at: '2026-11-24T10:00:01.000Z',
  finished_at: '2026-11-24T10:00:09.000Z',
  qa_status: null,
  review: { status: 'pending' as const, by: null, at: null, note: null },
  version: 1,
  chosen: { version: 1, index: null },
};

export const ItemSchema = z
  .object({
    ...itemFields,
    prompt: z.string(),
    reference_images: z.array(z.string()),
    versions: z.array(ItemVersionSchema),
  })
  .openapi('Item', {
    example: {
      ...itemExample,
      prompt: 'Studio product shot of a shoe',
      reference_images: [],
      versions: [
        {
          version: 1,
          cause: { reason: 'initial' as const },
          created_at: '2026-11-24T10:00:01.000Z',
          prompt: 'Studio product shot of a shoe',
          outputs: itemExample.outputs,
        },
      ],
    },
  });

/** The item in item events: without `prompt` and `reference_images`; versions without prompt and outputs. */
export const ItemPayloadSchema = z
  .object({ ...itemFields, versions: z.array(ItemVersionPayloadSchema) })
  .openapi('ItemPayload', {
    example: {
      ...itemExample,
      versions: [
        { version: 1, cause: { reason: 'initial' as const }, created_at: '2026-11-24T10:00:01.000Z' },
      ],
    },
  });

const DeliveryAttemptSchema = z
  .object({
    at: time,
    url: z.string().optional(),
    status_code: z.int().nullable(),
    latency_ms: z.number(),
    response_excerpt: z.string(),
    error: z.string().nullable(),
    series: z.int().optional(),
  })
  .openapi('DeliveryAttempt');

export const DeliverySchema = z
  .object({
    id: z.string(),
    object: z.literal('delivery'),
    batch_id: z.string(),
    endpoint_id: z.string().nullable(),
    event_type: z.string(),
    webhook_id: z.string(),
    url: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    failure_reason: z
      .enum(['exhausted', 'gone', 'aborted', 'endpoint_disabled', 'endpoint_deleted'])
      .nullable(),
    attempts: z.array(DeliveryAttemptSchema),
    next_attempt_at: nullableTime,
    redeliveries: z.int(),
    created_at: time,
  })
  .openapi('Delivery', {
    example: {
      id: 'dlv_01JD6Z5V3X2Q8R7T9Y4W1M0N2R',
      object: 'delivery',
      batch_id: 'batch_01JD6Z5V3X2Q8R7T9Y4W1M0N2P',
      endpoint_id: null,
      event_type: 'batch.completed',
      webhook_id: 'msg_01JD6Z5V3X2Q8R7T9Y4W1M0N2S',
      url: 'https://example.com/hooks/pixelmill',
      status: 'succeeded',
      failure_reason: null,
      attempts: [
        {
          at: '2026-11-24T10:01:00.000Z',
          status_code: 200,
          latency_ms: 42,
          response_excerpt: 'ok',
          error: null,
        },
      ],
      next_attempt_at: null,
      redeliveries: 0,
      created_at: '2026-11-24T10:01:00.000Z',
    },
  });

const endpointFields = {
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  url: z.string(),
  description: z.string(),
  events: z.array(webhookEventTypeSchema),
  item_group_max_items: z.int(),
  item_group_max_wait_s: z.int(),
  enabled: z.boolean(),
  rate_limit: z.int().nullable().openapi({ description: 'Deliveries per second at most; null: no limit' }),
  disabled_reason: z.enum(['manual', 'gone', 'failing']).nullable(),
  failing_since: nullableTime,
  previous_secret_expires_at: nullableTime,
  created_at: time,
  updated_at: time,
};

const endpointExample = {
  id: 'we_01JD6Z5V3X2Q8R7T9Y4W1M0N2T',
  object: 'webhook_endpoint' as const,
  url: 'https://example.com/hooks/pixelmill',
  description: 'production',
  events: ['batch.completed' as const, 'batch.cancelled' as const],
  item_group_max_items: 100,
  item_group_max_wait_s: 10,
  enabled: true,
  rate_limit: null,
  disabled_reason: null,
  failing_since: null,
  previous_secret_expires_at: null,
  created_at: '2026-11-24T10:00:00.000Z',
  updated_at: '2026-11-24T10:00:00.000Z',
};

export const WebhookEndpointSchema = z
  .object(endpointFields)
  .openapi('WebhookEndpoint', { example: endpointExample });

export const WebhookEndpointWithSecretSchema = z
  .object({ ...endpointFields, secret: z.string().openapi({ description: 'Returned once' }) })
  .openapi('WebhookEndpointWithSecret', {
    example: { ...endpointExample, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  });

const keyLimits = z
  .object({
    key_id: z.string().openapi({ description: "First 10 hex digits of the key's SHA-256" }),
    configured: z.boolean(),
    window_ms: z.number().optional(),
    rpm: z.number().nullable().optional(),
    effective_rpm: z.number().nullable().optional(),
    ipm: z.number().nullable().optional(),
    concurrency: z.number().nullable().optional(),
    in_flight: z.number().optional(),
    requests_in_window: z.number().optional(),
    images_in_window: z.number().optional(),
    cooldown_until: nullableTime.optional(),
    parked: z.boolean().optional(),
    parked_until: nullableTime.optional(),
    revoked: z.boolean().openapi({
      description:
        'Out of rotation for every model of the provider: the provider called the key invalid, revoked or forbidden',
    }),
    revoked_until: nullableTime.openapi({ description: 'When the key gets one trial call again' }),
  })
  .openapi('KeyLimitState');

const ModelSchema = z
  .object({
    id: z.string(),
    object: z.literal('model'),
    aliases: z.array(z.string()),
    provider: z.string(),
    kind: z.string(),
    available: z.boolean(),
    sizes: z.array(sizeSchema),
    aspect_ratios: z.array(z.string()),
    max_reference_images: z.int(),
    price_usd: z.record(z.string(), z.number()),
    economy: z.boolean().openapi({ description: 'Batches in mode economy may use this model' }),
    batch_price_usd: z
      .record(z.string(), z.number())
      .openapi({ description: 'Price per image through the provider batch API (economy)' }),
    limits: z.object({
      rpm: z.number().optional(),
      ipm: z.number().optional(),
      concurrency: z.number().optional(),
    }),
    timeout_s: z.number(),
    fallback: z.array(z.string()),
    rate_limits: z
      .object({ circuit: z.enum(['closed', 'open', 'half-open']), keys: z.array(keyLimits) })
      .nullable(),
  })
  .openapi('Model', {
    example: {
      id: 'gemini-3-pro-image',
      object: 'model',
      aliases: ['nano-banana-pro'],
      provider: 'gemini',
      kind: 'gemini',
      available: true,
      sizes: ['1K', '2K', '4K'],
      aspect_ratios: ['1:1', '4:3'],
      max_reference_images: 14,
      price_usd: { '1K': 0.134, '2K': 0.134, '4K': 0.24 },
      economy: true,
      batch_price_usd: { '1K': 0.067, '2K': 0.067, '4K': 0.12 },
      limits: { rpm: 20, concurrency: 8 },
      timeout_s: 300,
      fallback: ['gemini-3.1-flash-image'],
      rate_limits: null,
    },
  });

const page = <T extends z.ZodType>(name: string, data: T) =>
  z
    .object({
      object: z.literal('list'),
      data: z.array(data),
      next_cursor: z
        .string()
        .nullable()
        .openapi({ description: 'Pass as `cursor` for the next page; null at the end' }),
    })
    .openapi(name);

export const ReviewResultSchema = z
  .object({ object: z.literal('list'), reviewed: z.int(), data: z.array(ItemSchema) })
  .openapi('ReviewResult', { description: 'How many items were reviewed, and each of them as it is now' });
export const BatchPageSchema = page('BatchPage', BatchSchema);
export const ItemPageSchema = page('ItemPage', ItemSchema);
export const DeliveryPageSchema = page('DeliveryPage', DeliverySchema);
export const WebhookEndpointPageSchema = page('WebhookEndpointPage', WebhookEndpointSchema);
export const ModelListSchema = z
  .object({ object: z.literal('list'), data: z.array(ModelSchema) })
  .openapi('ModelList');

export const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');
export const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.object({
      redis: z.string().openapi({ description: '`ok` or `error: <reason>`' }),
      bucket: z.string().openapi({ description: '`ok` or `error: <reason>`' }),
    }),
  })
  .openapi('Readiness', { example: { status: 'ready', checks: { redis: 'ok', bucket: 'ok' } } });

/** `POST /v1/batches/{id}/retry`: which ended items go back to the queue (default `["failed"]`). */
export const RetryRequestSchema = z
  .strictObject({
    statuses: z
      .array(z.enum(itemStatuses.filter((s) => s !== 'queued' && s !== 'running' && s !== 'succeeded')))
      .min(1)
      .optional(),
  })
  .openapi('RetryRequest', { example: { statuses: ['failed', 'expired'] } });
