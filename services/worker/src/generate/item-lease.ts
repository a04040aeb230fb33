import type { ItemLease } from '@pixelmill/core';
import { DelayedError, type Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';

/**
 * Who runs an item: this process, this job and this fetch of it. BullMQ gives every fetch its own
 * lock token, so a job that stalled and came back to the same process is another runner too.
 */
export function runnerOf(workerId: string, job: Pick<Job, 'id'>, token: string | undefined): string {
  return `${workerId}:${job.id}:${token ?? ''}`;
}

export function itemLeaseFor(deps: Pick<WorkerDeps, 'options'>, job: Job, token?: string): ItemLease {
  return { runner: runnerOf(deps.options.workerId, job, token), ms: deps.options.itemLeaseMs };
}

/**
 * While another runner holds the item (it was silent long enough for BullMQ to hand us its job, but
 * its lease has not run out), look again later: when its lease ends, or sooner, since it usually
 * ends the item first. No attempt is spent.
 */
export async function waitForLease(job: Job, token: string | undefined, waitMs: number): Promise<never> {
  const again = Math.min(waitMs, 5_000) + Math.floor(Math.random() * 250);
  await job.moveToDelayed(Date.now() + again, token);
  throw new DelayedError();
}

/**
 * Renews the lease every quarter of its length until the returned function is called. A renewal
 * that finds the lease gone (it ran out and another runner took the item) is logged; the call in
 * flight cannot be taken back, and what it returns is still stored.
 */
export function keepItemLease(
  deps: Pick<WorkerDeps, 'store' | 'logger'>,
  itemId: string,
  lease: ItemLease,
): () => void {
  let warned = false;
  const timer = setInterval(
    () => {
      deps.store
        .renewItemLease(itemId, lease)
        .then((state) => {
          if (state !== 'taken' || warned) return;
          warned = true;
          deps.logger.warn(
            { item_id: itemId },
            'item lease ran out and another worker took the item; storing what this call returns',
          );
        })
        .catch(() => undefined);
    },
    Math.max(50, Math.floor(lease.ms / 4)),
  );
  return () => clearInterval(timer);
}
