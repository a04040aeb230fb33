/** @module The body of every delivery (api.md "Webhooks"), for receivers to type what they verified. */

export type WebhookEventType =
  | 'batch.completed'
  | 'batch.cancelled'
  | 'item.succeeded'
  | 'item.failed'
  | 'items.completed'
  | 'item.reviewed'
  | 'item.regenerated';

export interface WebhookEvent<T = Record<string, unknown>> {
  type: WebhookEventType;
  /** When the event happened (RFC 3339); the same on every retry. */
  timestamp: string;
  /** A batch object, an item object, or `{batch_id, batch_counts, count, items}` for items.completed. */
  data: T;
}
