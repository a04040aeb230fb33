/**
 * @module The `deliver` BullMQ queue: flushes of grouped item events, and deliveries an earlier
 * version queued as jobs, which are made due for the delivery pump.
 */
import { DeliveryStore, flushItemsJobSchema, jobs } from '@pixelmill/core';
import type { Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { flushItems, isFlushJob } from './flush-items.js';

export function createDeliverQueueProcessor(deps: WorkerDeps) {
  const deliveries = new DeliveryStore(deps.redis, deps.queues.prefix);
  return async function deliverQueueJob(job: Job): Promise<void> {
    if (isFlushJob(job)) {
      await flushItems(deps, flushItemsJobSchema.parse(job.data));
      return;
    }
    await deliveries.schedule(jobs.deliver.schema.parse(job.data).delivery_id);
  };
}
