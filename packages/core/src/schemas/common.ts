import { z } from 'zod';

export const sizes = ['512', '1K', '2K', '4K'] as const;
export const sizeSchema = z.enum(sizes);
export type Size = z.infer<typeof sizeSchema>;

export const aspectRatioSchema = z
  .string()
  .regex(/^[1-9]\d{0,1}:[1-9]\d{0,1}$/, 'Expected a ratio of two whole numbers like "4:3"');

/** A model id or alias from GET /v1/models (checked against the registry when resolving). */
export const batchModelSchema = z.string().min(1).max(200);

export const imageCountSchema = z.int().min(1).max(10);

/**
 * How a batch's images are obtained: `realtime` (the providers' realtime APIs), `economy` (their batch
 * APIs at batch prices, hours not seconds) or `auto` (economy first, realtime when the deadline needs it).
 */
export const batchModeSchema = z.enum(['realtime', 'economy', 'auto']);
export type BatchMode = z.infer<typeof batchModeSchema>;

/** The lane that obtains an item's images: the realtime APIs or a provider batch job (economy). */
export type Lane = 'realtime' | 'economy';

export const prioritySchema = z.enum(['high', 'normal', 'low']);
export type Priority = z.infer<typeof prioritySchema>;

export const outputFormatSchema = z.enum(['png', 'jpeg', 'webp']);
export type OutputFormat = z.infer<typeof outputFormatSchema>;

/**
 * custom_id becomes a path segment of the output key, so it is limited to characters that are safe in
 * S3 keys and URLs without escaping.
 */
export const customIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._=+-]*$/,
    'Use letters, digits and . _ = + - (starting with a letter or digit)',
  );

/** Small client metadata kept with a batch or item and echoed back; not for large payloads. */
export const metadataSchema = z
  .record(z.string().max(64), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
  .refine((m) => Object.keys(m).length <= 32, 'At most 32 metadata keys');
export type Metadata = z.infer<typeof metadataSchema>;

/**
 * The types a webhook's `events` may name; a target receives exactly the types it names.
 * `item.succeeded` / `item.failed` are one POST per item; `items.completed` bundles every item that
 * ended (succeeded or failed) into grouped events. `item.reviewed` (an item was approved or rejected)
 * and `item.regenerated` (a new version of an item was started) are one POST per change.
 */
export const webhookEventTypes = [
  'batch.completed',
  'batch.cancelled',
  'item.succeeded',
  'item.failed',
  'items.completed',
  'item.reviewed',
  'item.regenerated',
] as const;
/**
 * Operational events, for tenant endpoints only: `message.attempt.exhausted` (a delivery gave up after
 * its last attempt) and `endpoint.disabled` (an endpoint answered 410 or failed for 5 days).
 */
export const operationalEventTypes = ['message.attempt.exhausted', 'endpoint.disabled'] as const;
export type OperationalEventType = (typeof operationalEventTypes)[number];
/** What a batch's own `webhook` can subscribe to: the batch's events, no operational ones. */
export const batchWebhookEventTypeSchema = z.enum(webhookEventTypes);
export const webhookEventTypeSchema = z.enum([...webhookEventTypes, ...operationalEventTypes]);
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;
export const isOperationalEvent = (type: string): type is OperationalEventType =>
  (operationalEventTypes as readonly string[]).includes(type);

/** Deliveries per second a receiver accepts (`rate_limit`); past it deliveries wait, none is dropped. */
export const webhookRateLimitSchema = z.int().min(1).max(1000);

/** Standard Webhooks secret: `whsec_` + base64 of at least 24 bytes. */
export const webhookSecretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'Expected whsec_ followed by base64 (at least 24 bytes)');
