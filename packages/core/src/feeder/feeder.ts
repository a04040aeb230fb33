/**
 * @module The feeder: accepted items become BullMQ jobs only as their model's queue has room, so Redis
 * holds the work in flight as jobs and the rest of a catalog as item records only.
 *
 * A feed is two steps. Step 1 (FeedStore.take, one Lua call) picks queued items of one batch and one
 * model from the batch's feed cursor and records them as pending; step 2 adds their jobs through the
 * fair scheduler and clears the record. A feeder that dies between the steps leaves the record, and
 * the next run of any feeder of the model adds those jobs (recoverPending): job ids are the item and
 * its round, so a job added twice exists once, and the gate drops a job whose item already ended.
 *
 * The API feeds a new batch's first items itself (no wait for a worker); every worker process runs
 * feedModel for each model as jobs start and on a timer.
 */

import { createFairScheduler, flowName } from '../fair-queue/fair-queue.js';
import type { BatchSpecCache } from '../store/batch-spec-cache.js';
import type { FedItem, FeedStore } from '../store/feed-store.js';
import type { BatchSpec } from '../store/records.js';
import { type EnqueueBatch, type EnqueueDeps, enqueueItems } from './enqueue-items.js';

/** What one feed (feedBatch) needs. */
export interface FeedStepDeps extends EnqueueDeps {
  feeds: FeedStore;
  /** Runs between the two steps of every feed (the chaos tests' crash point); absent elsewhere. */
  betweenSteps?: () => void;
}

/** What a feeder of a model (feedModel) needs. */
export interface FeederDeps extends FeedStepDeps {
  specs: BatchSpecCache;
  /** Jobs a model's queue may hold waiting (wait, prioritized, delayed) after a feed (PIXELMILL_FEED_HIGH_WATER). */
  highWater: number;
}

/** A batch as the feeder sees it. */
export interface FeedBatch extends EnqueueBatch {
  /** Its items may differ in model or lane: each one's spec is read when picking. */
  inspect: boolean;
}

/** A pending feed younger than this may still be getting its jobs from the feeder that took it. */
const PENDING_GRACE_MS = 5000;
/** Feed calls of one feedModel run at most (each looks at up to 5,000 items). */
const MAX_CALLS_PER_RUN = 200;

export function feedBatchOf(id: string, tenantId: string, spec: BatchSpec): FeedBatch {
  const acceptedAt = Date.parse(spec.created_at);
  return {
    id,
    tenantId,
    priority: spec.priority,
    ...(Number.isFinite(acceptedAt) ? { acceptedAt } : {}),
    inspect: (spec.models?.length ?? 1) > 1 || (spec.mode ?? 'realtime') !== 'realtime',
  };
}

/** Every model an item of the batch uses (the batch's own first). */
export function batchModelsOf(spec: BatchSpec): string[] {
  return [...new Set([spec.model, ...(spec.models ?? [])])];
}

/** The models whose queues a batch's items may go to (none for a batch wholly on the economy lane). */
export function feedModelsOf(spec: BatchSpec): string[] {
  return spec.mode === 'economy' ? [] : batchModelsOf(spec);
}

/** Step 2 of a feed: the jobs of items picked for the model. */
function enqueueFed(deps: EnqueueDeps, model: string, batch: FeedBatch, items: readonly FedItem[]) {
  return enqueueItems(
    deps,
    batch,
    items.map((i) => ({ id: i.itemId, model, round: i.round })),
  );
}

/** Feeds up to `max` items of one batch for one model: both steps. */
export async function feedBatch(
  deps: FeedStepDeps,
  model: string,
  batch: FeedBatch,
  max: number,
): Promise<{ fed: number; done: boolean }> {
  const { token, items, done } = await deps.feeds.take(model, batch.id, max, batch.inspect);
  if (items.length > 0) {
    deps.betweenSteps?.();
    await enqueueFed(deps, model, batch, items);
    await deps.feeds.settle(model, token);
  }
  return { fed: items.length, done };
}

/** Adds the jobs of the model's feeds that stayed pending (their feeder died between the steps). */
export async function recoverPending(deps: FeederDeps, model: string, now = Date.now()): Promise<number> {
  let recovered = 0;
  for (const feed of await deps.feeds.pending(model)) {
    if (now - feed.at < PENDING_GRACE_MS) continue;
    const found = await deps.specs.entry(feed.batchId);
    if (found !== null) {
      await enqueueFed(deps, model, feedBatchOf(feed.batchId, found.tenantId, found.spec), feed.items);
      recovered += feed.items.length;
    }
    await deps.feeds.settle(model, feed.token);
  }
  return recovered;
}

/**
 * Tops the model's queue up to the high-water mark from the batches with items to feed, fair between
 * flows (a tenant's batches of one priority): flows whose finish tag is smallest go first and each
 * takes an equal share of the room per round; within a flow, its oldest batch first. The fair
 * scheduler then orders the jobs as it always has. Returns the items fed, and those whose jobs it
 * added for a feeder that died between its steps.
 */
export async function feedModel(
  deps: FeederDeps,
  model: string,
): Promise<{ fed: number; recovered: number }> {
  const recovered = await recoverPending(deps, model);
  const ids = await deps.feeds.batches(model);
  if (ids.length === 0) return { fed: 0, recovered };
  const queue = deps.queues.generate(model);
  const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed');
  let room = deps.highWater - Object.values(counts).reduce((a, b) => a + b, 0);
  if (room <= 0) return { fed: 0, recovered };

  const tags = (await createFairScheduler(deps.redis).state(queue)).flows;
  const flows = new Map<string, FeedBatch[]>();
  for (const id of ids.sort()) {
    const found = await deps.specs.entry(id);
    // Gone (rolled back, or expired from Redis): take() drops it from the set.
    const batch =
      found === null
        ? { id, tenantId: '', priority: 'normal' as const, inspect: false }
        : feedBatchOf(id, found.tenantId, found.spec);
    const flow = found === null ? '' : flowName({ tenant: batch.tenantId, priority: batch.priority });
    flows.set(flow, [...(flows.get(flow) ?? []), batch]);
  }
  const order = [...flows.entries()]
    .sort(([a], [b]) => (tags[a] ?? 0) - (tags[b] ?? 0))
    .map(([, batches]) => batches);

  let fed = 0;
  let calls = 0;
  while (room > 0 && order.length > 0 && calls < MAX_CALLS_PER_RUN) {
    const share = Math.ceil(room / order.length);
    for (const batches of [...order]) {
      if (room <= 0 || calls >= MAX_CALLS_PER_RUN) break;
      const batch = batches[0] as FeedBatch;
      calls += 1;
      const step = await feedBatch(deps, model, batch, Math.min(share, room));
      room -= step.fed;
      fed += step.fed;
      if (step.done) batches.shift();
      if (batches.length === 0) order.splice(order.indexOf(batches), 1);
    }
  }
  return { fed, recovered };
}
