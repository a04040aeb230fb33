import { z } from 'zod';
import {
  type WebhookEventType,
  webhookEventTypeSchema,
  webhookRateLimitSchema,
  webhookSecretSchema,
} from './common.js';

/**
 * Deprecated input-only alias, never stored or returned: the `events` list alone says what a target
 * receives. `grouped` turns `item.succeeded` / `item.failed` in the same request's `events` into
 * `items.completed`; `each` changes nothing. See {@link subscribedEvents}.
 */
export const itemEventsModeSchema = z.enum(['each', 'grouped']);
export type ItemEventsMode = z.infer<typeof itemEventsModeSchema>;

/**
 * The types a target subscribes to, after the `item_events` alias: with `grouped`, the item types are
 * replaced by `items.completed`. Order kept, duplicates dropped.
 */
export function subscribedEvents(
  events: readonly WebhookEventType[],
  itemEvents?: ItemEventsMode,
): WebhookEventType[] {
  const mapped = events.map(
    (e): WebhookEventType =>
      itemEvents === 'grouped' && (e === 'item.succeeded' || e === 'item.failed') ? 'items.completed' : e,
  );
  return [...new Set(mapped)];
}

export const ITEM_GROUP_DEFAULTS = { maxItems: 100, maxWaitS: 10 } as const;

/** Events an endpoint receives when its `events` is omitted: item events are opt-in. */
export const DEFAULT_ENDPOINT_EVENTS = ['batch.completed', 'batch.cancelled'] as const;

const endpointFields = {
  url: z.url({ protocol: /^https?$/, error: 'Expected an http(s) URL' }).max(2048),
  description: z.string().max(500),
  events: z.array(webhookEventTypeSchema).min(1).max(8),
  item_events: itemEventsModeSchema,
  item_group_max_items: z.int().min(1).max(1000),
  item_group_max_wait_s: z.int().min(1).max(3600),
  enabled: z.boolean(),
  /** Deliveries per second at most, across all workers; null (PATCH) removes the limit. */
  rate_limit: webhookRateLimitSchema.nullable(),
};

export const createWebhookEndpointSchema = z.strictObject({
  url: endpointFields.url,
  description: endpointFields.description.optional(),
  events: endpointFields.events.optional(),
  item_events: endpointFields.item_events.optional(),
  item_group_max_items: endpointFields.item_group_max_items.optional(),
  item_group_max_wait_s: endpointFields.item_group_max_wait_s.optional(),
  enabled: endpointFields.enabled.optional(),
  rate_limit: endpointFields.rate_limit.optional(),
  /** Bring your own secret; otherwise the server makes one and returns it once. */
  secret: webhookSecretSchema.optional(),
});
export type CreateWebhookEndpoint = z.infer<typeof createWebhookEndpointSchema>;

export const updateWebhookEndpointSchema = z
  .strictObject({
    url: endpointFields.url.optional(),
    description: endpointFields.description.optional(),
    events: endpointFields.events.optional(),
    item_events: endpointFields.item_events.optional(),
    item_group_max_items: endpointFields.item_group_max_items.optional(),
    item_group_max_wait_s: endpointFields.item_group_max_wait_s.optional(),
    enabled: endpointFields.enabled.optional(),
    rate_limit: endpointFields.rate_limit.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'Send at least one field to change');
export type UpdateWebhookEndpoint = z.infer<typeof updateWebhookEndpointSchema>;

export const rotateSecretSchema = z.strictObject({ secret: webhookSecretSchema.optional() });
