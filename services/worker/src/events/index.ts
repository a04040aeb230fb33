/**
 * Webhook events raised by the worker. `emitItemEvent` is called where an item ends
 * (generate/processor.ts), `emitBatchEvent` where a batch ends (finalize/processor.ts); both come
 * from @pixelmill/webhooks so the API can emit too (e.g. `emitBatchEvent(deps, 'batch.cancelled', id)`).
 */
export { type BatchEventType, emitBatchEvent, emitItemEvent } from '@pixelmill/webhooks';
export { flushItems, isFlushJob } from './flush-items.js';
