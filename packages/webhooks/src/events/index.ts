export {
  type BatchEventType,
  emitBatchEvent,
  emitItemChange,
  emitItemEvent,
  relayOutboxEntry,
} from './emit.js';
export { type EnqueueDeliveryInput, enqueueDelivery } from './enqueue-delivery.js';
export type { EventDeps } from './event-deps.js';
export { flushItemGroup } from './item-groups.js';
export type { GroupedItem, ItemPayload } from './payloads.js';
export type { WebhookEvent, WebhookEventType } from './webhook-event.js';
