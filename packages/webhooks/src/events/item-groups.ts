/**
 * @module Grouped item events. Each item end appends one entry to a Redis list per (batch, target);
 * a flush job turns waiting entries into `items.completed` deliveries of up to `groupMaxItems`
 * entries and about 20 kB. A flush is queued when a list starts (after the target's wait), when it
 * reaches a multiple of its size, and when the batch ends, so no entry waits longer than the wait.
 */
import { DeliveryStore, enqueue, type FlushItemsJob, jobs, messageIdFor } from '@pixelmill/core';
import { luaScripts, runLuaScript } from '@pixelmill/redis-scripts';
import { enqueueDelivery } from './enqueue-delivery.js';
import { type EventDeps, MAX_EVENT_BODY_BYTES } from './event-deps.js';
import { eventBody } from './payloads.js';
import { currentTarget, type EventTarget } from './targets.js';

/** A group's list; it and its `:pushed` set share one hash slot (pushOnce-2.lua, a two-key DEL). */
export const groupKey = (prefix: string, batchId: string, targetId: string): string =>
  `${prefix}:whgroup:{${batchId}:${targetId}}`;

export async function queueFlush(
  deps: Pick<EventDeps, 'queues'>,
  job: FlushItemsJob,
  delayMs = 0,
): Promise<void> {
  await enqueue(deps.queues, jobs.flushItems, job, delayMs > 0 ? { options: { delay: delayMs } } : {});
}

const scripts = luaScripts(new URL('./lua/', import.meta.url));

/** How long a group remembers which item ends it already holds (longer than any relay retry). */
const PUSHED_TTL_S = 7 * 24 * 3600;

/**
 * Appends one item's entry (a JSON string) to the target's waiting group, once per `once` (the item
 * end: item id and finished_at; defaults to the entry itself).
 */
export async function pushGroupEntry(
  deps: EventDeps,
  batchId: string,
  tenantId: string,
  target: EventTarget,
  entry: string,
  once: string = entry,
): Promise<void> {
  const key = groupKey(deps.queues.prefix, batchId, target.id);
  const length = Number(
    await runLuaScript(
      deps.redis,
      scripts('pushOnce-2.lua'),
      [key, `${key}:pushed`],
      [entry, once, PUSHED_TTL_S],
    ),
  );
  if (length === 0) return;
  const job = { batch_id: batchId, tenant_id: tenantId, target: target.id };
  // The first entry of a group starts its clock: whatever waits then is sent when it runs out.
  if (length === 1) await queueFlush(deps, { ...job, mode: 'all' }, target.groupMaxWaitS * 1000);
  if (length % target.groupMaxItems === 0) await queueFlush(deps, { ...job, mode: 'full' });
}

/** Entries that fit one body: at least one, at most `max`, and within the byte budget. */
function fitting(entries: string[], max: number): string[] {
  const budget = MAX_EVENT_BODY_BYTES - 512;
  let used = 0;
  const out: string[] = [];
  for (const entry of entries.slice(0, max)) {
    const size = Buffer.byteLength(entry) + 1;
    if (out.length > 0 && used + size > budget) break;
    out.push(entry);
    used += size;
  }
  return out;
}

/**
 * Sends waiting entries as `items.completed` deliveries. Safe to run twice or concurrently: a chunk's
 * webhook id follows from its first entry, so a repeated chunk finds its delivery already recorded and
 * removes exactly the entries that delivery holds.
 */
export async function flushItemGroup(deps: EventDeps, job: FlushItemsJob): Promise<number> {
  const key = groupKey(deps.queues.prefix, job.batch_id, job.target);
  const current = await currentTarget(deps, job.batch_id, job.target);
  const target = current?.events.includes('items.completed') ? current : null;
  if (target === null) {
    // Deleted, disabled or unsubscribed since: like every other event for it, these are not sent.
    await deps.redis.del(key, `${key}:pushed`);
    return 0;
  }
  const deliveries = new DeliveryStore(deps.redis, deps.queues.prefix);
  let sent = 0;
  for (;;) {
    const waiting = await deps.redis.llen(key);
    if (waiting === 0 || (job.mode === 'full' && waiting < target.groupMaxItems)) return sent;
    const chunk = fitting(await deps.redis.lrange(key, 0, target.groupMaxItems - 1), target.groupMaxItems);
    const first = chunk[0];
    if (first === undefined) return sent;
    const batch = await deps.store.getBatchInternal(job.batch_id);
    const body = eventBody('items.completed', {
      batch_id: job.batch_id,
      batch_counts: batch?.batch.counts ?? null,
      count: chunk.length,
      items: chunk.map((e) => JSON.parse(e) as unknown),
    });
    const webhookId = messageIdFor('items.completed', `${job.batch_id}\0${target.id}\0${first}`);
    const { id, created } = await enqueueDelivery(deps, {
      tenantId: job.tenant_id,
      batchId: job.batch_id,
      target,
      url: target.url,
      eventType: 'items.completed',
      webhookId,
      body,
      itemCount: chunk.length,
    });
    const count = created ? chunk.length : ((await deliveries.getInternal(id))?.item_count ?? chunk.length);
    await runLuaScript(deps.redis, scripts('trimIfHead-1.lua'), [key], [first, count]);
    sent += count;
  }
}
