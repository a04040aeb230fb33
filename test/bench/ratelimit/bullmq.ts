/** Contender (c): a BullMQ queue with the built-in limiter, two worker processes (bullmq-worker.ts). */
import { randomUUID } from 'node:crypto';
import { type Job, Queue } from 'bullmq';
import { type Service, startService, stopService, waitFor } from '../../support/processes.js';
import { deletePrefix } from '../../support/redis-cleanup.js';
import {
  BIG_ITEMS,
  MODEL,
  PER_KEY,
  prompt,
  type RunReport,
  SMALL_AT_MS,
  SMALL_ITEMS,
  sleep,
  WINDOW_MS,
} from './workload.js';

export const BULLMQ_CONCURRENCY = 32;
const QUEUE = 'bench-generate';
const jobOptions = { attempts: 5, backoff: { type: 'exponential', delay: 1000 } } as const;

export interface BullmqContender {
  /** The worker processes' ids (CPU accounting). */
  pids: (number | undefined)[];
  run(startAt: number): Promise<RunReport>;
  stop(): Promise<void>;
}

export async function startBullmq(
  redisUrl: string,
  simUrl: string,
  keys: string[],
): Promise<BullmqContender> {
  const prefix = `bench-bullmq-${randomUUID().slice(0, 8)}`;
  const url = new URL(redisUrl);
  const queue = new Queue(QUEUE, {
    connection: { host: url.hostname, port: Number(url.port || 6379) },
    prefix,
  });
  const env = {
    REDIS_URL: redisUrl,
    SIM_URL: simUrl,
    BENCH_KEYS: keys.join(','),
    BENCH_QUEUE: QUEUE,
    BENCH_PREFIX: prefix,
    BENCH_MODEL: MODEL,
    BENCH_CONCURRENCY: String(BULLMQ_CONCURRENCY),
    // The declared rate of both keys together, as one queue-wide limit.
    BENCH_LIMIT_MAX: String(PER_KEY * keys.length),
    BENCH_LIMIT_MS: String(WINDOW_MS),
  };
  const workers: Service[] = [0, 1].map((i) =>
    startService(`bullmq-worker-${i}`, 'test/bench/ratelimit/bullmq-worker.ts', env),
  );
  await waitFor(
    'the BullMQ workers',
    () => (workers.every((w) => w.output().includes('ready')) ? true : undefined),
    {
      timeoutMs: 60_000,
    },
  );

  const add = (tag: string, count: number) =>
    queue.addBulk(
      Array.from({ length: count }, (_, i) => ({
        name: tag,
        data: { prompt: prompt(tag, i) },
        opts: jobOptions,
      })),
    );

  return {
    pids: workers.map((w) => w.child.pid),
    async run(startAt) {
      await sleep(startAt - Date.now());
      const startedAt = Date.now();
      for (let i = 0; i < BIG_ITEMS; i += 500) await add('big', Math.min(500, BIG_ITEMS - i));
      await sleep(startedAt + SMALL_AT_MS - Date.now());
      const submittedAt = Date.now();
      const small = await add('small', SMALL_ITEMS);
      const total = BIG_ITEMS + SMALL_ITEMS;
      let counts: Record<string, number> = {};
      for (;;) {
        counts = await queue.getJobCounts('completed', 'failed');
        if ((counts.completed ?? 0) + (counts.failed ?? 0) >= total) break;
        await sleep(200);
      }
      const endedAt = Date.now();
      const done = (await Promise.all(small.map((j) => queue.getJob(j.id!)))).filter(
        (j): j is Job => j !== undefined,
      );
      const all = await queue.getJobs(['completed', 'failed'], 0, total);
      return {
        startedAt,
        acceptedAt: startedAt,
        endedAt: Math.max(...all.map((j) => j.finishedOn ?? 0), startedAt),
        succeeded: counts.completed ?? 0,
        failed: counts.failed ?? 0,
        small: {
          submittedAt,
          acceptedAt: submittedAt,
          firstStartAt: Math.min(...done.map((j) => j.processedOn ?? endedAt)),
          doneAt: Math.max(...done.map((j) => j.finishedOn ?? endedAt)),
        },
      };
    },
    async stop() {
      await Promise.all(workers.map((w) => stopService(w)));
      await queue.close();
      await deletePrefix(redisUrl, prefix);
    },
  };
}
