import { enqueue, type GenerateJob, jobs, roundOfGenerateJob } from '@pixelmill/core';
import { DelayedError, type Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { waitForLease } from './item-lease.js';
import { dropSpoolOfTurnedAway } from './unwanted-spool.js';

/**
 * How long a job of a batch still being ingested waits before it looks again. Jobs are created in the
 * last step of acceptance, just before the batch is published: the wait bounds how long after the 201
 * the first of them runs.
 */
const PENDING_RETRY_MS = 200;

/**
 * Asks the batch store whether this job's item may run now (gateItem-3.lua). A batch still being
 * ingested is invisible and may yet be rolled back, so its jobs wait without calling any provider;
 * an item another live worker still holds (item-lease.ts) waits, before taking any provider
 * capacity; a queued item of a cancelled batch, or one past its deadline, ends here (finalizing the
 * batch when it was the last), and any images spooled for an item turned away are dropped unstored.
 * Returns true when the item should run.
 */
export async function admitItem(
  deps: WorkerDeps,
  data: GenerateJob,
  job: Job,
  token: string | undefined,
  runner: string,
): Promise<boolean> {
  const gate = await deps.store.gateItem(
    data.batch_id,
    data.item_id,
    runner,
    roundOfGenerateJob(job.id ?? data.item_id),
  );
  if (gate.state === 'go') return true;
  if (gate.state === 'busy') {
    deps.logger.info(
      { batch_id: data.batch_id, item_id: data.item_id, wait_ms: gate.waitMs },
      'item is still leased by another worker; waiting instead of generating it again',
    );
    return waitForLease(job, token, gate.waitMs);
  }
  if (gate.state === 'pending') {
    await job.moveToDelayed(Date.now() + PENDING_RETRY_MS, token);
    throw new DelayedError();
  }
  if (gate.last)
    await enqueue(deps.queues, jobs.finalize, { batch_id: data.batch_id, tenant_id: data.tenant_id });
  // Images spooled for it by an earlier attempt will never be stored: drop them, no upload.
  await dropSpoolOfTurnedAway(deps, data, gate.state);
  return false;
}
