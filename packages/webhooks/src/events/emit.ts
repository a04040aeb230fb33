/**
 * @module Turning ends into events. Nothing calls these where an item or batch ends: the Lua script
 * that ends it records the end in the outbox (@pixelmill/core outbox-store.ts), and the worker's relay
 * calls {@link relayOutboxEntry} for each entry. Every step here is idempotent (deterministic webhook
 * and delivery ids, group entries pushed once per item end), because the relay may run an entry
 * twice: at least once plus deterministic ids is once per `webhook-id`. Emitting only writes to Redis
 * and queues jobs on the `deliver` queue: no HTTP here, so generation never waits for a receiver.
 */
import { enqueue, jobs, messageIdFor, type OutboxEntry } from '@pixelmill/core';
import { enqueueDelivery } from './enqueue-delivery.js';
import type { EventDeps } from './event-deps.js';
import { pushGroupEntry, queueFlush } from './item-groups.js';
import { batchPayload, eventBody, groupedItem, itemPayload } from './payloads.js';
import { type EventTarget, resolveTargets } from './targets.js';

export type BatchEventType = 'batch.completed' | 'batch.cancelled';

/** One event, the same body and webhook id, recorded and queued for each of these targets. */
async function deliverToEach(
  deps: EventDeps,
  event: {
    tenantId: string;
    batchId: string;
    targets: readonly EventTarget[];
    type: string;
    webhookId: string;
    body: string;
  },
): Promise<void> {
  for (const target of event.targets) {
    await enqueueDelivery(deps, {
      tenantId: event.tenantId,
      batchId: event.batchId,
      target,
      url: target.url,
      eventType: event.type,
      webhookId: event.webhookId,
      body: event.body,
    });
  }
}

/**
 * Sends `batch.completed` or `batch.cancelled` to every target subscribed to that type, after flushing
 * whatever `items.completed` entries still wait. One webhook id per (event type, batch, retry round):
 * running it again for the same ending records no second delivery, while a batch that was retried and
 * ended again gets a new event. `round` defaults to the batch's current round. Returns the number of
 * targets it was sent to.
 */
export async function emitBatchEvent(
  deps: EventDeps,
  type: BatchEventType,
  batchId: string,
  opts: { round?: number; at?: Date } = {},
): Promise<number> {
  const resolved = await resolveTargets(deps, batchId);
  if (resolved === null) return 0;
  const { tenantId, targets } = resolved;
  for (const t of targets) {
    if (t.events.includes('items.completed')) {
      await queueFlush(deps, { batch_id: batchId, tenant_id: tenantId, target: t.id, mode: 'all' });
    }
  }
  const subscribed = targets.filter((t) => t.events.includes(type));
  if (subscribed.length === 0) return 0;
  const found = await deps.store.getBatchInternal(batchId);
  if (found === null) return 0;
  const body = eventBody(type, await batchPayload(deps, found.batch), opts.at);
  const round = opts.round ?? (await deps.store.finalizeState(batchId)).round;
  const webhookId = messageIdFor(type, `${batchId}\0${round}`);
  await deliverToEach(deps, { tenantId, batchId, targets: subscribed, type, webhookId, body });
  return subscribed.length;
}

/**
 * One item ended `succeeded` or `failed` (at `finishedAt`): `item.succeeded` / `item.failed` to the
 * targets subscribed to that type, one entry of the next `items.completed` to targets subscribed to
 * `items.completed`. Skipped when the item no longer holds that end (a retry re-opened it: its next
 * end is an event of its own). Throws on Redis errors, so the relay keeps the entry and tries again.
 */
export async function emitItemEvent(
  deps: EventDeps,
  batchId: string,
  itemId: string,
  finishedAt: string,
): Promise<void> {
  const resolved = await resolveTargets(deps, batchId);
  if (resolved === null) return;
  const wantsItems = (t: { events: readonly string[] }) =>
    t.events.some((e) => e === 'item.succeeded' || e === 'item.failed' || e === 'items.completed');
  if (!resolved.targets.some(wantsItems)) return;
  const item = await deps.store.getItem(itemId);
  if (item === null || (item.status !== 'succeeded' && item.status !== 'failed')) return;
  if (item.finished_at !== finishedAt) return;
  const type = `item.${item.status}` as const;
  const each = resolved.targets.filter((t) => t.events.includes(type));
  const grouped = resolved.targets.filter((t) => t.events.includes('items.completed'));
  if (each.length === 0 && grouped.length === 0) return;
  const payload = await itemPayload(deps, item);
  if (each.length > 0) {
    const body = eventBody(type, payload, new Date(finishedAt));
    // finished_at makes an item that fails, is retried and ends again a new event.
    const webhookId = messageIdFor(type, `${itemId}\0${finishedAt}`);
    await deliverToEach(deps, { tenantId: resolved.tenantId, batchId, targets: each, type, webhookId, body });
  }
  if (grouped.length > 0) {
    const entry = JSON.stringify(groupedItem(payload));
    for (const target of grouped) {
      await pushGroupEntry(deps, batchId, resolved.tenantId, target, entry, `${itemId}\0${finishedAt}`);
    }
  }
}

/**
 * An item changed without ending: `item.reviewed` (approved or rejected) or `item.regenerated` (a new
 * version started), to the targets subscribed to that type (opt-in, like item events). The webhook id
 * follows from the change's key, so running it twice records one delivery per target. The body is the
 * item as it is now.
 */
export async function emitItemChange(
  deps: EventDeps,
  type: 'item.reviewed' | 'item.regenerated',
  batchId: string,
  itemId: string,
  key: string,
  at: string,
): Promise<number> {
  const resolved = await resolveTargets(deps, batchId);
  if (resolved === null) return 0;
  const subscribed = resolved.targets.filter((t) => t.events.includes(type));
  if (subscribed.length === 0) return 0;
  const item = await deps.store.getItem(itemId);
  if (item === null) return 0;
  const body = eventBody(type, await itemPayload(deps, item), at ? new Date(at) : undefined);
  const webhookId = messageIdFor(type, `${itemId}\0${key}`);
  await deliverToEach(deps, {
    tenantId: resolved.tenantId,
    batchId,
    targets: subscribed,
    type,
    webhookId,
    body,
  });
  return subscribed.length;
}

/**
 * Acts on one outbox entry: an item end becomes its item events and, when it ended the batch, the
 * batch's finalize job; a batch end becomes `batch.completed` or `batch.cancelled` for its round
 * (skipped when a retry has re-opened the batch since: that round ends with an event of its own).
 */
export async function relayOutboxEntry(deps: EventDeps, entry: OutboxEntry): Promise<void> {
  if (entry.kind === 'change') {
    await emitItemChange(deps, entry.type, entry.batchId, entry.itemId, entry.key, entry.at);
    return;
  }
  if (entry.kind === 'item') {
    if (entry.status === 'succeeded' || entry.status === 'failed') {
      await emitItemEvent(deps, entry.batchId, entry.itemId, entry.at);
    }
    if (entry.last) {
      const found = await deps.store.getBatchInternal(entry.batchId);
      if (found !== null)
        await enqueue(deps.queues, jobs.finalize, { batch_id: entry.batchId, tenant_id: found.tenantId });
    }
    return;
  }
  const found = await deps.store.getBatchInternal(entry.batchId);
  if (found === null || found.batch.completed_at === null) return;
  const { round } = await deps.store.finalizeState(entry.batchId);
  if (round !== entry.round) return;
  const type = found.batch.status === 'cancelled' ? 'batch.cancelled' : 'batch.completed';
  await emitBatchEvent(deps, type, entry.batchId, {
    round: entry.round,
    ...(entry.at ? { at: new Date(entry.at) } : {}),
  });
}
