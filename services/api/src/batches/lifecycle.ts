import { setTimeout as delay } from 'node:timers/promises';
import {
  type Batch,
  batchModelsOf,
  enqueue,
  feedBatch,
  feedBatchOf,
  type ItemStatus,
  jobIdOf,
  jobs,
} from '@pixelmill/core';
import type { Job } from 'bullmq';
import type { AppDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { feedStepDeps } from './feed.js';
import { trackReopenedBatch } from './tenant-quota.js';

async function batchOrNotFound(deps: AppDeps, tenantId: string, batchId: string): Promise<Batch> {
  const batch = await deps.store.getBatch(tenantId, batchId);
  if (batch === null) throw notFound('Batch');
  return batch;
}

/** How long a retry waits for the finalize job that completed the batch to leave BullMQ's active list. */
const FINALIZE_EXIT_WAIT_MS = 3_000;
const FINALIZE_EXIT_POLL_MS = 20;

/**
 * Removes a finalize job that already completed its batch. The batch reads `completed` as soon as
 * completeBatch ran, a moment before BullMQ moves the job out of the active list; meanwhile the job is
 * locked and cannot be removed, so this looks again until it can (false if it still cannot by the
 * deadline).
 */
async function removeFinishedJob(job: Job): Promise<boolean> {
  const deadline = Date.now() + FINALIZE_EXIT_WAIT_MS;
  for (;;) {
    try {
      await job.remove();
      return true;
    } catch {
      if (Date.now() >= deadline) return false;
      await delay(FINALIZE_EXIT_POLL_MS);
    }
  }
}

/**
 * `POST /v1/batches/{id}/cancel`: queued items end `cancelled` (closeQueued-3.lua, one call per 5,000
 * items, so the counts are right in the answer); running items finish. Their jobs leave the queues
 * in the background (the sweep-cancelled job, sweep-cancelled.ts); until then, and for a job it
 * misses, a worker that picks one up finds the item ended and drops it before any provider capacity
 * is taken (gateItem-3.lua), as it does for a queued item this scan misses (a job a worker already
 * holds, an item a failed attempt puts back). The batch is
 * `cancelling` until its last item ends, then `cancelled`. Ended batches are returned unchanged.
 */
export async function cancelBatch(deps: AppDeps, tenantId: string, batchId: string): Promise<Batch> {
  const batch = await batchOrNotFound(deps, tenantId, batchId);
  if (!(await deps.store.requestCancel(batchId))) return batch;
  let last = false;
  for await (const window of deps.store.closeQueued(batchId, 'cancelled')) if (window.last) last = true;
  if (last) await enqueue(deps.queues, jobs.finalize, { batch_id: batchId, tenant_id: tenantId });
  const { round } = await deps.store.finalizeState(batchId);
  await enqueue(deps.queues, jobs.sweepCancelled, { batch_id: batchId, tenant_id: tenantId, change: round });
  return batchOrNotFound(deps, tenantId, batchId);
}

/**
 * `POST /v1/batches/{id}/retry`: items in the given statuses (failed by default) go back to queued with
 * their attempts reset (retryWindow-3.lua, one call per 5,000 items, so the counts are right in the
 * answer), on the realtime lane (an economy item retried is generated through the realtime API). The
 * feeder makes their jobs (new job ids: the old failed jobs may still be kept); the first
 * PIXELMILL_FEED_HIGH_WATER of each model are queued before the answer. The batch
 * re-opens and finalizes again (manifest and results rewritten, a new completion webhook) when they end.
 */
export async function retryBatch(
  deps: AppDeps,
  tenantId: string,
  batchId: string,
  statuses: readonly ItemStatus[],
): Promise<{ batch: Batch; retried: number }> {
  const batch = await batchOrNotFound(deps, tenantId, batchId);
  const candidates = statuses.reduce((sum, s) => sum + (batch.counts[s as keyof Batch['counts']] ?? 0), 0);
  if (candidates === 0) return { batch, retried: 0 };
  const state = await deps.store.finalizeState(batchId);
  const finalizing = new ApiError(
    409,
    'conflict',
    'The batch is being finalized right now; retry in a few seconds',
  );
  if (state.claimed && !state.completed) throw finalizing;
  // The finalize job that completed the batch stays under its fixed id, which the next round needs.
  const previous = await deps.queues.finalize.getJob(
    jobIdOf(jobs.finalize, { batch_id: batchId, tenant_id: tenantId }),
  );
  if (previous && !(await removeFinishedJob(previous))) throw finalizing;

  await deps.store.reopenBatch(batchId);
  await trackReopenedBatch(deps, tenantId, batchId);
  const found = await deps.store.getBatchInternal(batchId);
  if (found === null) throw notFound('Batch');
  // A retry runs on the realtime lane, whatever lane the item had: every model of the batch is fed.
  const models = batchModelsOf(found.spec);
  let retried = 0;
  for await (const count of deps.store.retryInWindows(batchId, statuses, models)) retried += count;
  if (retried > 0) {
    const fed = feedBatchOf(batchId, tenantId, found.spec);
    for (const model of models) await feedBatch(feedStepDeps(deps), model, fed, deps.options.feedHighWater);
  }
  // Another retry took them first: nothing is open, so this call finalizes the re-opened batch again.
  if (retried === 0 && (await deps.store.claimFinalize(batchId)))
    await enqueue(deps.queues, jobs.finalize, { batch_id: batchId, tenant_id: tenantId });
  return { batch: await batchOrNotFound(deps, tenantId, batchId), retried };
}
