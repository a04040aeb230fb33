export { type BatchEventType, emitBatchEvent, emitItemEvent } from './emit.js';
export { deliverJobOptions, type EnqueueDeliveryInput, enqueueDelivery } from './enqueue-delivery.js';
export { type EventDeps, MAX_EVENT_BODY_BYTES } from './event-deps.js';
export { FLUSH_ITEMS_JOB, flushItemGroup, groupKey } from './item-groups.js';
export type { GroupedItem, ItemPayload } from './payloads.js';
export { BATCH_TARGET, type EventTarget } from './targets.js';
