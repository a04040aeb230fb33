/**
 * @module The worker's side of grouped item events: flush jobs run on the `deliver` queue beside the
 * deliveries they create (see @pixelmill/webhooks events/item-groups.ts for the design).
 */
import { type FlushItemsJob, jobs } from '@pixelmill/core';
import { flushItemGroup } from '@pixelmill/webhooks';
import type { Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';

export const isFlushJob = (job: Job): boolean => job.name === jobs.flushItems.name;

export async function flushItems(deps: WorkerDeps, job: FlushItemsJob): Promise<void> {
  const sent = await flushItemGroup(deps, job);
  if (sent > 0)
    deps.logger.debug({ batch_id: job.batch_id, target: job.target, items: sent }, 'item events sent');
}
