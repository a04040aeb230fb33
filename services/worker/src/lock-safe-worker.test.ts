import { randomUUID } from 'node:crypto';
import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LockSafeWorker } from './lock-safe-worker.js';

const LOCK_MS = 2_000;
const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});
const prefix = `test-lockrace-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  const keys = await connection.keys(`${prefix}:*`);
  if (keys.length > 0) await connection.del(...keys);
  connection.disconnect();
});

/** Polls check until it holds or ms pass; returns whether it held. */
async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

describe('LockSafeWorker', () => {
  it('keeps renewing the lock of a job handed back with a short delay and fetched again by the same worker', async () => {
    const queue = new Queue('race', { connection, prefix });
    const lost: string[] = [];
    let signalLost = () => {};
    const lockLost = new Promise<void>((resolve) => {
      signalLost = resolve;
    });
    let refetchedEarly = false;
    let runs = 0;
    const worker = new LockSafeWorker(
      'race',
      async (job: Job, token?: string) => {
        runs += 1;
        if (runs === 1) {
          // Handed back with a short delay; the same worker fetches it again (its second slot)
          // before this run has returned to BullMQ.
          await job.moveToDelayed(Date.now() + 1, token);
          refetchedEarly = await until(async () => (await queue.getJobState(job.id!)) === 'active', 5_000);
          throw new DelayedError();
        }
        // The second run holds the job well past lockDuration (a slow provider call), or until
        // the lock is seen lost.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          lockLost,
          new Promise((resolve) => (timer = setTimeout(resolve, LOCK_MS * 2.5))),
        ]);
        clearTimeout(timer);
        return 'done';
      },
      { connection, prefix, concurrency: 2, lockDuration: LOCK_MS, stalledInterval: 500 },
    );
    worker.on('error', (err) => {
      lost.push(`error: ${err.message}`);
      signalLost();
    });
    worker.on('stalled', (id) => {
      lost.push(`stalled: ${id}`);
      signalLost();
    });
    try {
      await queue.add('x', {}, { jobId: 'job-1' });
      const ended = await until(
        async () => lost.length > 0 || (await queue.getJobState('job-1')) === 'completed',
        LOCK_MS * 5,
      );
      expect(ended).toBe(true);
      expect(refetchedEarly).toBe(true);
      expect(lost).toEqual([]);
      expect(runs).toBe(2);
      expect((await queue.getJob('job-1'))?.returnvalue).toBe('done');
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }, 20_000);

  it('renews the lock of a job fetched by an ending run while a rate limit holds the main loop', async () => {
    const name = 'paused';
    const queue = new Queue(name, { connection, prefix });
    const problems: string[] = [];
    let waitedMs = 0;
    let limitRuns = 0;
    const worker = new LockSafeWorker(
      name,
      async (job: Job) => {
        // How long the job was active (fetched, its lock set) before its processing started.
        waitedMs = Math.max(waitedMs, Date.now() - (job.processedOn ?? Date.now()));
        if (job.name === 'limit' && ++limitRuns === 1) {
          // The model has no capacity for a while: the queue pauses, the job goes back to wait.
          await queue.rateLimit(LOCK_MS * 2);
          throw Worker.RateLimitError();
        }
        if (job.name === 'slow') await new Promise((resolve) => setTimeout(resolve, LOCK_MS / 4));
        return 'done';
      },
      { connection, prefix, concurrency: 2, lockDuration: LOCK_MS, stalledInterval: 300, autorun: false },
    );
    worker.on('error', (err) => problems.push(`error: ${err.message}`));
    worker.on('stalled', (id) => problems.push(`stalled: ${id}`));
    try {
      // 'slow' and 'limit' are taken first; 'waiting' is what 'slow' fetches as it ends, while
      // the main loop sleeps out the rate limit set by 'limit'.
      await queue.add('slow', {}, { jobId: 'slow', priority: 1 });
      await queue.add('limit', {}, { jobId: 'limit', priority: 1 });
      await queue.add('waiting', {}, { jobId: 'waiting', priority: 2 });
      const run = worker.run();
      const ended = await until(
        async () =>
          (await queue.getJobState('waiting')) === 'completed' &&
          (await queue.getJobState('limit')) === 'completed',
        LOCK_MS * 6,
      );
      expect(problems).toEqual([]);
      expect(ended).toBe(true);
      // The job 'slow' fetched as it ended ('limit' again, or 'waiting') really waited past
      // lockDuration before it was processed.
      expect(waitedMs).toBeGreaterThan(LOCK_MS);
      await worker.close();
      await run;
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }, 30_000);

  it("renews the lock of a job the main loop's blocking fetch took while it sleeps out a rate limit", async () => {
    // Whether the fetched job waits for the pause depends on which of two Redis replies the worker
    // reads first; a try where it did not wait shows nothing, so the case is tried again (up to
    // MAX_TRIES) until it happens, and every try must end without a lost lock.
    const MAX_TRIES = 6;
    const tries: Awaited<ReturnType<typeof blockedFetchTry>>[] = [];
    for (let attempt = 0; attempt < MAX_TRIES; attempt += 1) {
      const result = await blockedFetchTry(`blocked-${attempt}`);
      tries.push(result);
      expect(result.blocked).toBe(true);
      expect(result.handedBack).toBe(true);
      expect(result.problems).toEqual([]);
      expect(result.ended).toBe(true);
      if (result.waitedMs > LOCK_MS) break;
    }
    // The case happened: a job really waited past lockDuration before it was processed.
    expect(tries.some((result) => result.waitedMs > LOCK_MS)).toBe(true);
  }, 60_000);
});

/**
 * One try of the blocked-fetch case: the queue holds one job, so the worker's second slot blocks
 * waiting for another; 'limit' pauses the queue, and the main loop sleeps out the pause while the
 * blocked fetch takes the next job.
 */
async function blockedFetchTry(name: string) {
  const queue = new Queue(name, { connection, prefix });
  const problems: string[] = [];
  let waitedMs = 0;
  let limited = () => {};
  const rateLimited = new Promise<void>((resolve) => {
    limited = resolve;
  });
  let limitRuns = 0;
  let blocked = false;
  const worker = new LockSafeWorker(
    name,
    async (job: Job) => {
      waitedMs = Math.max(waitedMs, Date.now() - (job.processedOn ?? Date.now()));
      if (job.name === 'limit' && ++limitRuns === 1) {
        // The worker's second slot is blocked waiting for a job (BZPOPMIN on the queue's marker)
        // before the pause starts, so that fetch is what takes the next job.
        blocked = await until(
          async () => (await queue.getWorkers()).some((w) => w.cmd === 'bzpopmin'),
          5_000,
        );
        await queue.rateLimit(LOCK_MS * 2);
        limited();
        throw Worker.RateLimitError();
      }
      return 'done';
    },
    { connection, prefix, concurrency: 2, lockDuration: LOCK_MS, stalledInterval: 300 },
  );
  worker.on('error', (err) => problems.push(`error: ${err.message}`));
  worker.on('stalled', (id) => problems.push(`stalled: ${id}`));
  try {
    await queue.add('limit', {}, { jobId: 'limit' });
    await rateLimited;
    // Only once the worker has handed 'limit' back: a job added before that would be taken and run
    // at once.
    const handedBack = await until(async () => (await queue.getJobState('limit')) !== 'active', 5_000);
    await queue.add('late', {}, { jobId: 'late' });
    const ended = await until(
      async () =>
        (await queue.getJobState('late')) === 'completed' &&
        (await queue.getJobState('limit')) === 'completed',
      LOCK_MS * 6,
    );
    return { blocked, handedBack, problems, ended, waitedMs };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}
