import { queueNames } from '@pixelmill/core';
import { fullJitterBackoff } from '@pixelmill/ratelimit';
import type { ConnectionOptions, Job, Queue, Worker } from 'bullmq';
import { createDeliverQueueProcessor } from './deliver/deliver-queue.js';
import { createDeliveryAttempt, type DeliverReport } from './deliver/processor.js';
import { startDeliveryPump } from './deliver/pump.js';
import type { WorkerDeps } from './deps.js';
import { createEconomyProcessor } from './economy/processor.js';
import { startFeedLoop } from './feed/feed-loop.js';
import { createFinalizeProcessor } from './finalize/processor.js';
import { endAbandonedItems } from './generate/abandoned-items.js';
import { hintedWaitMs } from './generate/handle-failure.js';
import { runnerOf } from './generate/item-lease.js';
import { createGenerateProcessor } from './generate/processor.js';
import { LockSafeWorker } from './lock-safe-worker.js';
import type { WorkerMetrics } from './metrics/worker-metrics.js';
import { crashPoint } from './test-crash.js';

/**
 * Backoff between real failures of an item (a retried 5xx): the server's hint plus jitter when it gave
 * one, else exponential 2 s → 64 s with full jitter (providers.md §8). `attemptsMade` starts at 1
 * after the first failure.
 */
export function itemBackoffMs(attemptsMade: number, err: Error): number {
  return hintedWaitMs(err) ?? fullJitterBackoff(attemptsMade - 1, { baseMs: 2000, capMs: 64_000 }) ?? 64_000;
}

/** How fast a crashed worker's jobs come back (docs/reliability.md "Crashed workers"). */
export interface RecoverySettings {
  /** A job's lock lives this long without renewal (renewed every half of it while the job runs). */
  lockDurationMs: number;
  /** How often each worker looks for jobs whose lock lapsed. */
  stalledIntervalMs: number;
  /** Crashes a job survives before BullMQ fails it (its item then ends as failed). */
  maxStalledCount: number;
}

export interface RunningWorkers {
  workers: Worker[];
  /** Jobs this process is working on right now. */
  activeJobs(): number;
  /**
   * Moves every job still running here back to its queue's wait list (releasing its lock), so another
   * worker takes it at once instead of after the lock lapses. Used when shutdown runs out of time.
   */
  handBack(): Promise<number>;
  /** Stops the periodic sweep of abandoned items and the feeders' timer. */
  stopSweeps(): void;
  /** Closes the BullMQ workers (`force`: without waiting for running jobs) and the delivery pump. */
  close(force?: boolean): Promise<void>;
}

/** Webhook delivery attempts one worker process runs at once. */
const DELIVERY_SLOTS = 50;

type Processor = (job: Job, token?: string) => Promise<unknown>;

/**
 * One BullMQ worker per model queue (a throttled model never blocks another), plus finalize and
 * webhook delivery workers, which run beside generation but never share its concurrency.
 */
export function startWorkers(
  deps: WorkerDeps,
  connection: ConnectionOptions,
  recovery: RecoverySettings,
  metrics?: WorkerMetrics,
): RunningWorkers {
  // Each worker takes its queue's own prefix (queues.ts queuePrefix) with these settings.
  const common = {
    connection,
    lockDuration: recovery.lockDurationMs,
    stalledInterval: recovery.stalledIntervalMs,
    maxStalledCount: recovery.maxStalledCount,
  };
  const running = new Map<string, { job: Job; token: string | undefined; queue: string }>();
  const tracked =
    (queue: string, fn: Processor): Processor =>
    async (job, token) => {
      // By fetch (token), not job id: a job handed back can be fetched again before this run ends.
      const key = `${queue}\u0000${job.id}\u0000${token ?? ''}`;
      running.set(key, { job, token, queue });
      try {
        return await fn(job, token);
      } finally {
        running.delete(key);
      }
    };

  const generate = createGenerateProcessor(deps) as Processor;
  // While uploads lag (S3 down, or too many bytes not stored yet) no new provider call starts: the
  // job waits here holding its lock, without spending an attempt.
  const gatedGenerate: Processor = async (job, token) => {
    await deps.uploads.ready();
    return generate(job, token);
  };
  const generateQueues: Queue[] = [];
  const workers: Worker[] = deps.registry.list().map((model) => {
    const name = queueNames.generate(model.id);
    generateQueues.push(deps.queues.generate(model.id));
    return new LockSafeWorker(name, tracked(name, gatedGenerate), {
      ...common,
      prefix: deps.queues.prefixOf(name),
      concurrency: deps.options.concurrency,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          itemBackoffMs(attemptsMade, err ?? new Error()),
      },
    });
  });
  workers.push(
    new LockSafeWorker(
      queueNames.finalize,
      tracked(queueNames.finalize, createFinalizeProcessor(deps) as Processor),
      {
        ...common,
        prefix: deps.queues.prefixOf(queueNames.finalize),
        concurrency: 4,
      },
    ),
  );
  // Provider batch jobs (economy lane): each run is short (one step), then the job waits delayed.
  workers.push(
    new LockSafeWorker(
      queueNames.economy,
      tracked(queueNames.economy, createEconomyProcessor(deps) as Processor),
      { ...common, prefix: deps.queues.prefixOf(queueNames.economy), concurrency: 4 },
    ),
  );
  // Flushes of grouped item events; deliveries themselves are claimed by the delivery pump.
  workers.push(
    new LockSafeWorker(
      queueNames.deliver,
      tracked(queueNames.deliver, createDeliverQueueProcessor(deps) as Processor),
      { ...common, prefix: deps.queues.prefixOf(queueNames.deliver), concurrency: 4 },
    ),
  );
  // A lease outlasts any attempt (its deadline) by a job lock's duration.
  const pump = startDeliveryPump(deps, {
    concurrency: DELIVERY_SLOTS,
    leaseMs: deps.options.webhookTimeoutMs + recovery.lockDurationMs,
    deliver: createDeliveryAttempt(deps),
    ...(metrics ? countDeliveries(metrics) : {}),
  });

  const models = deps.registry.list().map((m) => m.id);
  const feeder = startFeedLoop(
    {
      ...deps,
      itemAttempts: deps.options.itemAttempts,
      highWater: deps.options.feedHighWater,
      betweenSteps: () => crashPoint('PIXELMILL_TEST_CRASH_IN_FEED'),
    },
    models,
    deps.logger,
  );
  const sweep = abandonedItemSweeper(deps, generateQueues);
  const sweepTimer = setInterval(() => void sweep(), Math.max(5000, recovery.stalledIntervalMs));
  sweepTimer.unref();

  for (const w of workers) {
    const isGenerate = !([queueNames.finalize, queueNames.deliver, queueNames.economy] as string[]).includes(
      w.name,
    );
    w.on('error', (err) => {
      const lost = /Missing lock for job (\S+)\./.exec(err.message)?.[1];
      const lock = lost !== undefined && w instanceof LockSafeWorker ? w.lockHistory(lost) : undefined;
      deps.logger.error({ err, queue: w.name, ...(lock ? { lock } : {}) }, 'worker error');
    });
    const model = models.find((m) => queueNames.generate(m) === w.name);
    // A job that starts leaves room in its queue: the model's feeder tops it up.
    if (model !== undefined) w.on('active', () => feeder.wake(model));
    w.on('completed', () => metrics?.jobs.inc({ queue: w.name, outcome: 'completed' }));
    w.on('failed', (job, err) => {
      metrics?.jobs.inc({ queue: w.name, outcome: 'failed' });
      deps.logger.debug({ job_id: job?.id, queue: w.name, err: err.message }, 'job attempt failed');
      // A final failure the processor did not turn into an ended item (it threw on every attempt).
      if (isGenerate && job?.finishedOn !== undefined) void sweep();
    });
    w.on('stalled', (jobId) => {
      const lock = w instanceof LockSafeWorker ? w.lockHistory(jobId) : undefined;
      deps.logger.warn(
        { job_id: jobId, queue: w.name, ...(lock && lock.events.length > 0 ? { lock } : {}) },
        'job stalled (its lock lapsed); picked up again',
      );
    });
  }
  return {
    workers,
    activeJobs: () => running.size + pump.inFlight(),
    close: async (force) => {
      await Promise.all([...workers.map((w) => w.close(force)), pump.stop()]);
    },
    handBack: async () => {
      const deliveries = await pump.handBack().catch((err: unknown) => {
        deps.logger.warn({ err }, 'could not hand webhook deliveries back; their leases will lapse');
        return 0;
      });
      if (deliveries > 0) deps.logger.info({ deliveries }, 'handed running webhook deliveries back');
      const entries = [...running.values()];
      await Promise.all(
        entries.map(async ({ job, token, queue }) => {
          try {
            // Its item is given up first, so the worker that takes the job starts it at once
            // instead of waiting out this process's item lease.
            const itemId = (job.data as { item_id?: unknown }).item_id;
            if (typeof itemId === 'string')
              await deps.store.releaseItemLease(itemId, runnerOf(deps.options.workerId, job, token));
            await job.moveToWait(token);
            metrics?.jobs.inc({ queue, outcome: 'handed_back' });
            deps.logger.info({ job_id: job.id, queue }, 'handed a running job back to the queue');
          } catch (err) {
            deps.logger.warn(
              { job_id: job.id, queue, err },
              'could not hand a job back; its lock will lapse',
            );
          }
        }),
      );
      return entries.length + deliveries;
    },
    stopSweeps: () => {
      clearInterval(sweepTimer);
      feeder.stop();
    },
  };
}

/** Runs endAbandonedItems when a generation queue's failed count changed, one run at a time. */
function abandonedItemSweeper(deps: WorkerDeps, queues: Queue[]): () => Promise<void> {
  const lastFailedCount = new Map<string, number>();
  let running: Promise<void> | undefined;
  const once = async () => {
    for (const queue of queues) {
      try {
        const count = await queue.getFailedCount();
        if (lastFailedCount.get(queue.name) === count) continue;
        await endAbandonedItems(deps, queue);
        lastFailedCount.set(queue.name, count);
      } catch (err) {
        deps.logger.warn({ err, queue: queue.name }, 'abandoned-item sweep failed; will try again');
      }
    }
  };
  return () => {
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };
}

/** Counts webhook delivery attempts by what became of the delivery, and the operational events. */
function countDeliveries(metrics: WorkerMetrics): {
  onReport: (report: DeliverReport) => void;
  onError: () => void;
} {
  return {
    onReport: (report) => {
      if (report.outcome === 'waiting') {
        metrics.webhookWaiting.inc({ reason: report.waited ?? 'slots' });
        return;
      }
      metrics.webhookDeliveries.inc({ outcome: report.outcome });
      if (report.exhausted === true) metrics.webhookExhausted.inc();
      if (report.disabled !== undefined) metrics.webhookEndpointsDisabled.inc({ reason: report.disabled });
    },
    onError: () => metrics.webhookDeliveries.inc({ outcome: 'error' }),
  };
}
