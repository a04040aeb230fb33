export {
  type BatchEventType,
  emitBatchEvent,
  emitItemChange,
  emitItemEvent,
  relayOutboxEntry,
} from './emit.js';
export { deliverJobOptions, type EnqueueDeliveryInput, enqueueDelivery } from './enqueue-delivery.js';
export type { EventDeps } from './event-deps.js';
export { FLUSH_ITEMS_JOB, flushItemGroup } from './item-groups.js';
export type { GroupedItem, ItemPayload } from './payloads.js';
export type { WebhookEvent, WebhookEventType } from './webhook-event.js';
