import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Jobs read at the head of a queue's `wait` list and `prioritized` set. Generation queues order jobs
 * by fair-queuing start tags, so every tenant flow's oldest job sits among the first few entries
 * (one per active flow, a few per weight class): reading this many finds the oldest of up to about a
 * hundred active flows at the cost of one pipelined HGET per job.
 */
const HEAD_JOBS = 256;

/**
 * Seconds since the oldest job ready to run (wait or prioritized; delayed jobs are scheduled, not
 * late) was added to the queue, read from the jobs' BullMQ `timestamp`; 0 when none waits.
 */
export async function oldestWaitingAgeSeconds(redis: Redis, queue: Queue, nowMs: number): Promise<number> {
  const ids = await queue.getRanges(['wait', 'prioritized'], 0, HEAD_JOBS - 1, true);
  if (ids.length === 0) return 0;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hget(queue.toKey(id), 'timestamp');
  let oldest = nowMs;
  for (const [err, value] of (await pipeline.exec()) ?? []) {
    // A job that started or was removed between the two reads is no longer waiting.
    if (err || typeof value !== 'string') continue;
    const at = Number(value);
    if (Number.isFinite(at) && at < oldest) oldest = at;
  }
  return Math.max(0, (nowMs - oldest) / 1000);
}
