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
 *
 * Second case: BullMQ tracks a job's lock only when its processing starts, but a fetched job can
 * wait before that: a run that ends fetches the next job itself (moveToFinished / moveToActive with
 * the same token), and the main loop's own blocking fetch resolves while the loop sleeps out a rate
 * limit (queue.rateLimit + RateLimitError) in waitForRateLimit; such a job waits unseen for the whole
 * pause and, past lockDuration, is reported stalled and run again. Here every job is tracked from
 * the moment it was fetched.
 * @module
 */
import { type Job, type JobJson, Worker } from 'bullmq';

/** Job ids whose recent runs are remembered for diagnosing a lost lock. */
const HISTORY_JOBS = 2_000;
const HISTORY_EVENTS = 12;

export class LockSafeWorker extends Worker {
  /** Per job id: the runs of it inside processJob now, token → when its lock was last set. */
  private readonly runs = new Map<string, Map<string, number>>();
  /**
   * Per job id (the most recent HISTORY_JOBS): what happened to its runs in this process, in order, as
   * (epoch ms, event); the time is formatted only when the history is read.
   */
  private readonly history = new Map<string, [number, string][]>();

  private note(id: string, event: string): void {
    let list = this.history.get(id);
    if (list === undefined) {
      list = [];
      this.history.set(id, list);
      if (this.history.size > HISTORY_JOBS) this.history.delete(this.history.keys().next().value!);
    } else {
      // Re-inserted: the Map's order is the recency order.
      this.history.delete(id);
      this.history.set(id, list);
    }
    list.push([Date.now(), event]);
    if (list.length > HISTORY_EVENTS) list.shift();
  }

  /**
   * What this process did with the job lately (fetches, ends, re-tracks, whether its lock is renewed
   * now): logged with a "Missing lock" error to tell a lapsed lock from one taken elsewhere.
   */
  lockHistory(id: string): { events: string[]; tracked: boolean; runs: number } {
    return {
      events: (this.history.get(id) ?? []).map(
        ([at, event]) => `${new Date(at).toISOString().slice(11, 23)} ${event}`,
      ),
      tracked: this.lockManager.getTrackedJobIds().includes(id),
      runs: this.runs.get(id)?.size ?? 0,
    };
  }

  /**
   * Every job this worker fetches (its main loop's fetch, or a run that ends fetching the next) has
   * its lock renewed from the fetch: BullMQ renews a job's lock only once its processing starts, and
   * its main loop may first sleep out a rate-limit pause (waitForRateLimit) while the fetched job
   * waits unseen in its queue.
   */
  protected override async nextJobFromJobData(
    jobData?: JobJson,
    jobId?: string,
    token?: string,
  ): Promise<Job> {
    const job = await super.nextJobFromJobData(jobData, jobId, token);
    if (job?.id !== undefined && token !== undefined) {
      this.lockManager.trackJob(job.id, token, Date.now());
      this.note(job.id, `fetched with token ${token}; lock renewed until its run starts`);
    }
    return job;
  }

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
    this.note(id, `run ${token} starts (processedOn ${job.processedOn ?? '-'}, ${runs.size} run(s))`);
    let next: Awaited<ReturnType<Worker['processJob']>> | undefined;
    try {
      next = await super.processJob(job, token, fetchNextCallback);
      return next;
    } finally {
      runs.delete(token);
      if (runs.size === 0) this.runs.delete(id);
      this.note(id, `run ${token} ends (${runs.size} other run(s))`);
      // BullMQ's finally just untracked `id`: a newer run of it, or this run's own fetch of the same
      // job again (tracked at its fetch, see nextJobFromJobData), must stay tracked.
      for (const [newer, lockedAt] of runs) {
        this.lockManager.trackJob(id, newer, lockedAt);
        this.note(id, `run ${newer} tracked again`);
      }
      if (next?.id === id && next.token !== undefined) {
        this.lockManager.trackJob(id, next.token, Date.now());
        this.note(id, `its next run ${next.token} tracked again`);
      }
    }
  }
}
