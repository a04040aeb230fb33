/**
 * @module Emitting events. The worker calls these where a batch or an item ends; the API can call
 * {@link emitBatchEvent} too (e.g. a cancel that ends a batch at once). Emitting only writes to Redis
 * and queues jobs on the `deliver` queue: no HTTP here, so generation never waits for a receiver.
 */
import { messageIdFor, storeKeys } from '@pixelmill/core';
import { enqueueDelivery } from './enqueue-delivery.js';
import type { EventDeps } from './event-deps.js';
import { pushGroupEntry, queueFlush } from './item-groups.js';
import { batchPayload, eventBody, groupedItem, itemPayload } from './payloads.js';
import { resolveTargets } from './targets.js';

export type BatchEventType = 'batch.completed' | 'batch.cancelled';

const isItemEvent = (e: string): boolean => e === 'item.succeeded' || e === 'item.failed';

/**
 * Sends `batch.completed` or `batch.cancelled` to every subscribed target, after sending whatever item
 * events still wait in groups. Idempotent: one webhook id per (event type, batch, retry round), so
 * calling it again for the same ending (a retried finalize) records no second delivery, while a batch
 * that was retried and ended again gets a new event.
 * Returns the number of targets it was sent to.
 */
export async function emitBatchEvent(
  deps: EventDeps,
  type: BatchEventType,
  batchId: string,
): Promise<number> {
  const resolved = await resolveTargets(deps, batchId);
  if (resolved === null) return 0;
  const { tenantId, targets } = resolved;
  for (const t of targets) {
    if (t.itemEvents === 'grouped' && t.events.some(isItemEvent)) {
      await queueFlush(deps, { batch_id: batchId, tenant_id: tenantId, target: t.id, mode: 'all' });
    }
  }
  const subscribed = targets.filter((t) => t.events.includes(type));
  if (subscribed.length === 0) return 0;
  const found = await deps.store.getBatchInternal(batchId);
  if (found === null) return 0;
  const body = eventBody(type, await batchPayload(deps, found.batch));
  // The retry round tells endings apart: a batch that is retried ends again and deserves a new event,
  // while a finalize that runs twice for the same ending finds the deliveries it already recorded.
  const round = (await deps.redis.hget(storeKeys(deps.queues.prefix).batch(batchId), 'round')) ?? '0';
  const webhookId = messageIdFor(type, `${batchId}\0${round}`);
  for (const target of subscribed) {
    await enqueueDelivery(deps, {
      tenantId,
      batchId,
      target,
      url: target.url,
      eventType: type,
      webhookId,
      body,
    });
  }
  return subscribed.length;
}

/**
 * Called once an item ended (succeeded or failed): `item.succeeded` / `item.failed` to targets in
 * `each` mode, an entry of the next `items.completed` to targets in `grouped` mode. Never throws: a
 * webhook problem must not fail the generation job that called it; it is logged instead.
 */
export async function emitItemEvent(deps: EventDeps, batchId: string, itemId: string): Promise<void> {
  try {
    const resolved = await resolveTargets(deps, batchId);
    if (resolved === null || !resolved.targets.some((t) => t.events.some(isItemEvent))) return;
    const item = await deps.store.getItem(itemId);
    if (item === null || (item.status !== 'succeeded' && item.status !== 'failed')) return;
    const type = `item.${item.status}` as const;
    const wanting = resolved.targets.filter((t) => t.events.includes(type));
    if (wanting.length === 0) return;
    const payload = await itemPayload(deps, item);
    const each = wanting.filter((t) => t.itemEvents === 'each');
    if (each.length > 0) {
      const body = eventBody(type, payload);
      // finished_at makes an item that fails, is retried and ends again a new event.
      const webhookId = messageIdFor(type, `${itemId}\0${item.finished_at ?? ''}`);
      for (const target of each) {
        await enqueueDelivery(deps, {
          tenantId: resolved.tenantId,
          batchId,
          target,
          url: target.url,
          eventType: type,
          webhookId,
          body,
        });
      }
    }
    const grouped = wanting.filter((t) => t.itemEvents === 'grouped');
    if (grouped.length > 0) {
      const entry = JSON.stringify(groupedItem(payload));
      for (const target of grouped) await pushGroupEntry(deps, batchId, resolved.tenantId, target, entry);
    }
  } catch (err) {
    deps.logger.warn({ err, batch_id: batchId, item_id: itemId }, 'could not emit item event');
  }
}
