/**
 * A BullMQ Worker that keeps renewing the lock of a job fetched again while its previous run is still
 * leaving BullMQ.
 *
 * BullMQ 6's LockManager tracks running jobs by job id alone, and `processJob` untracks the id in its
 * `finally`, after `handleFailed` has already fetched the next job. A job the processor hands back
 * with a short delay (`moveToDelayed` + DelayedError, or RateLimitError) can be fetched by another
 * slot of the same worker before that `finally` runs; the old run's untrack then deletes the new
 * run's entry, its lock is never renewed and lapses after lockDuration: "Missing lock for job ..."
 * and a "stalled" job on a healthy worker (reproduced in test/support/bullmq-lock-race.ts).
 *
 * Here every run of a job id is recorded with its own token; when a run leaves BullMQ while a newer
 * run of the same id is still in this worker, the newer run is tracked again (without an abort
 * signal: pixelmill's processors take none).
 * @module
 */
import { type Job, Worker } from 'bullmq';

export class LockSafeWorker extends Worker {
  /** Per job id: the runs of it inside processJob now, token → when its lock was last set. */
  private readonly runs = new Map<string, Map<string, number>>();

  override async processJob(
    job: Job,
    token: string,
    fetchNextCallback?: () => boolean,
  ): ReturnType<Worker['processJob']> {
    const id = job.id;
    if (id === undefined) return super.processJob(job, token, fetchNextCallback);
    let runs = this.runs.get(id);
    if (runs === undefined) {
      runs = new Map();
      this.runs.set(id, runs);
    }
    runs.set(token, job.processedOn ?? Date.now());
    try {
      return await super.processJob(job, token, fetchNextCallback);
    } finally {
      runs.delete(token);
      if (runs.size === 0) this.runs.delete(id);
      // BullMQ's finally just untracked `id`: a newer run of it must stay tracked.
      for (const [newer, lockedAt] of runs) this.lockManager.trackJob(id, newer, lockedAt);
    }
  }
}
