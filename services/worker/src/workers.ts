import { isProviderError, queueNames } from '@pixelmill/core';
import { fullJitterBackoff } from '@pixelmill/ratelimit';
import { type ConnectionOptions, Worker } from 'bullmq';
import { createDeliverProcessor } from './deliver/processor.js';
import type { WorkerDeps } from './deps.js';
import { createFinalizeProcessor } from './finalize/processor.js';
import { createGenerateProcessor } from './generate/processor.js';

/**
 * Backoff between real failures of an item: the server's hint when it gave one, else exponential
 * 2 s → 64 s with full jitter (providers.md §8). `attemptsMade` starts at 1 after the first failure.
 */
export function itemBackoffMs(attemptsMade: number, err: Error): number {
  if (isProviderError(err) && err.retryAfterMs !== undefined) return err.retryAfterMs;
  return fullJitterBackoff(attemptsMade - 1, { baseMs: 2000, capMs: 64_000 }) ?? 64_000;
}

/**
 * One BullMQ worker per model queue (a throttled model never blocks another), plus finalize and
 * webhook delivery workers, which run beside generation but never share its concurrency.
 */
export function startWorkers(deps: WorkerDeps, connection: ConnectionOptions): Worker[] {
  const common = { connection, prefix: deps.queues.prefix };
  const generate = createGenerateProcessor(deps);
  const workers: Worker[] = deps.registry.list().map(
    (model) =>
      new Worker(queueNames.generate(model.id), generate, {
        ...common,
        concurrency: deps.options.concurrency,
        // A crashed worker's job becomes stalled after the lock expires and is picked up again; allow
        // several such recoveries before BullMQ gives up on the job.
        maxStalledCount: 5,
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
            itemBackoffMs(attemptsMade, err ?? new Error()),
        },
      }),
  );
  workers.push(new Worker(queueNames.finalize, createFinalizeProcessor(deps), { ...common, concurrency: 4 }));
  workers.push(new Worker(queueNames.deliver, createDeliverProcessor(deps), { ...common, concurrency: 50 }));
  for (const w of workers) {
    w.on('error', (err) => deps.logger.error({ err, queue: w.name }, 'worker error'));
    w.on('failed', (job, err) =>
      deps.logger.debug({ job_id: job?.id, queue: w.name, err: err.message }, 'job attempt failed'),
    );
  }
  return workers;
}
