/**
 * Minimal reproduction, using only bullmq and ioredis, of a lock that BullMQ stops renewing on a
 * healthy worker (to file upstream; pixelmill works around it in services/worker/src/lock-safe-worker.ts).
 *
 * BullMQ's LockManager keys tracked jobs by job id alone, and `Worker.processJob` untracks the id in
 * its `finally`, after `handleFailed` (which, for a DelayedError, first fetches the next job). A job
 * the processor moved to delayed with a short delay can be fetched again by another slot of the same
 * worker before that `finally` runs: the new run's `trackJob(id, newToken)` is then deleted by the old
 * run's `untrackJob(id)`, so the new run's lock is never renewed. It lapses after lockDuration, the
 * job is reported stalled (and run again), and the new run ends with "Missing lock for job ...".
 *
 * Run: REDIS_URL=redis://127.0.0.1:6379 pnpm exec tsx support/bullmq-lock-race.ts   (from test/)
 * Prints the events seen and exits 1 when the lock was lost, 0 when it was not.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const LOCK_MS = 2_000;
const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});
const prefix = `lock-race-${randomUUID().slice(0, 8)}`;
const queue = new Queue('race', { connection, prefix });
const seen: string[] = [];
let lost: () => void = () => {};
const lockLost = new Promise<void>((resolve) => {
  lost = resolve;
});

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

let runs = 0;
const worker = new Worker(
  'race',
  async (job: Job, token?: string) => {
    runs += 1;
    seen.push(`run ${runs} started (token ${token})`);
    if (runs === 1) {
      // Hand the job back with a short delay, and let the same worker fetch it again before this
      // run returns to BullMQ (in production: the processor's own cleanup takes longer than the delay).
      await job.moveToDelayed(Date.now() + 1, token);
      const refetched = await until(async () => (await queue.getJobState(job.id!)) === 'active', 5_000);
      seen.push(`job fetched again before the first run returned: ${refetched}`);
      throw new DelayedError();
    }
    // The second run holds the job past lockDuration (a slow provider call).
    await Promise.race([lockLost, new Promise((r) => setTimeout(r, LOCK_MS * 2.5))]);
    return 'done';
  },
  { connection, prefix, concurrency: 2, lockDuration: LOCK_MS, stalledInterval: 500 },
);
worker.on('error', (err) => {
  seen.push(`error: ${err.message}`);
  lost();
});
worker.on('stalled', (id) => {
  seen.push(`stalled: ${id}`);
  lost();
});
worker.on('completed', (job) => seen.push(`completed: ${job.id}`));

await queue.add('x', {}, { jobId: 'job-1' });
await until(
  async () => (await queue.getJobState('job-1')) === 'completed' || seen.some((s) => s.startsWith('error')),
  15_000,
);
await worker.close();
await queue.obliterate({ force: true });
await queue.close();
for (const line of seen) console.log(line);
const failed = seen.some((s) => s.startsWith('error') || s.startsWith('stalled'));
console.log(failed ? 'LOCK LOST on a healthy worker' : 'lock kept');
connection.disconnect();
process.exit(failed ? 1 : 0);
