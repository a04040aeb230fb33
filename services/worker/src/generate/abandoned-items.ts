import { generateJobSchema, newestOutputs, terminalItemStatuses } from '@pixelmill/core';
import type { Queue } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { endItem } from './end-item.js';

/**
 * Ends the items of generation jobs that BullMQ failed without the processor ending them: a job that
 * crashed its worker more than `maxStalledCount` times (BullMQ fails it as "stalled more than allowable
 * limit" without running any code of ours), or one whose processor threw on every attempt before it
 * could record a result. Without this such an item would stay open and its batch would never finish.
 * Safe to run anywhere and often: ending an item is exactly-once, so ended items are left alone.
 */
export async function endAbandonedItems(deps: WorkerDeps, queue: Queue, newest = 200): Promise<number> {
  let ended = 0;
  for (const job of await queue.getFailed(0, newest - 1)) {
    const parsed = generateJobSchema.safeParse(job?.data);
    if (!parsed.success) continue;
    const data = parsed.data;
    const item = await deps.store.getItem(data.item_id);
    if (item === null || terminalItemStatuses.includes(item.status)) continue;
    const model = deps.registry.resolve(item.model);
    const crashed = /stalled more than allowable limit/.test(job.failedReason ?? '');
    await endItem(deps, data, {
      status: 'failed',
      error: {
        code: 'internal_error',
        message: crashed
          ? `The worker processing this item stopped (crashed or was killed) ${job.stalledCounter ?? 'too many'} times; giving up`
          : `Processing failed after ${job.attemptsMade} attempts: ${job.failedReason ?? 'unknown error'}`,
        retryable: false,
      },
      images: newestOutputs(item).length,
      ...(model !== undefined ? { model, size: item.size } : {}),
    });
    deps.logger.warn(
      { batch_id: data.batch_id, item_id: data.item_id, reason: job.failedReason },
      'ended an item whose job failed outside the processor',
    );
    ended += 1;
  }
  return ended;
}
