import type { Redis } from 'ioredis';
import { createFairScheduler } from '../fair-queue/fair-queue.js';
import { jobFor, jobs } from '../jobs/catalog.js';
import type { Queues } from '../queues.js';
import type { Priority } from '../schemas/common.js';

/** What adding generation jobs needs (the API's and the workers' deps both have it). */
export interface EnqueueDeps {
  redis: Redis;
  queues: Queues;
  /** BullMQ attempts of a generation job (WORKER_ITEM_ATTEMPTS). */
  itemAttempts: number;
}

export interface EnqueueBatch {
  id: string;
  tenantId: string;
  priority: Priority;
  /**
   * When the batch was accepted (ms): the BullMQ timestamp of its first-round jobs, so a queue's
   * oldest-job age counts from acceptance even when the feeder queued the job later.
   */
  acceptedAt?: number;
}

/**
 * The one place generation jobs are built and added (feeder, regeneration, economy hand-over), so
 * every job gets the same options (never a delay: a first-round job's timestamp may be its batch's
 * acceptance, and BullMQ counts a delay from the timestamp). Items may use different models, hence different queues; a job id
 * carries the item and its retry round, so adding one that exists changes nothing.
 */
export async function enqueueItems(
  deps: EnqueueDeps,
  batch: EnqueueBatch,
  items: readonly { id: string; model: string; round: number }[],
): Promise<void> {
  const byModel = new Map<string, (typeof items)[number][]>();
  for (const item of items) {
    const list = byModel.get(item.model) ?? [];
    list.push(item);
    byModel.set(item.model, list);
  }
  for (const [model, list] of byModel) {
    // Fair share between tenants: priorities are start tags of fair queuing (fair-queue.ts).
    await createFairScheduler(deps.redis).addBulk(
      deps.queues.generate(model),
      { tenant: batch.tenantId, priority: batch.priority },
      list.map((item) =>
        jobFor(
          jobs.generate,
          { batch_id: batch.id, item_id: item.id, tenant_id: batch.tenantId },
          {
            round: item.round,
            options: {
              attempts: deps.itemAttempts,
              ...(item.round === 0 && batch.acceptedAt !== undefined ? { timestamp: batch.acceptedAt } : {}),
            },
          },
        ),
      ),
    );
  }
}
