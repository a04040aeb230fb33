/**
 * Few candidates per process at the limiter, the rest go back at once.
 *
 * When a queue's rate limit (queue.rateLimit) ends, every BullMQ worker fetches as many jobs as it
 * has free slots; the limiter grants one or two of them and the others return to the queue. Each
 * such job would read its item and batch, check the spool, ask the breaker and the limiter: about
 * ten Redis round trips and a directory listing per job, per free slot, per grant, which burns the
 * CPU the calls themselves need. So at most `limit` jobs of one process and queue are candidates
 * (they wait in line for the limiter, see scheduling.ts acquire); any other job is handed straight
 * back (it keeps its fair-share priority) and the queue pauses until the limiter's last answer says
 * a slot frees, or briefly while the candidates have not heard from it yet.
 * @module
 */
import type { Job } from 'bullmq';

/** Jobs per process and queue that wait for the limiter, ready for the next slot. */
const CANDIDATES_PER_QUEUE = 4;
/** Pause when the candidates have not heard from the limiter yet. */
const ASKING_PAUSE_MS = 20;

export class CandidateGate {
  /** Per queue: ids of this process's jobs between pickup and their first grant. */
  private readonly asking = new Map<string, Set<string>>();
  /** Per queue: until when the limiter said there is no capacity (epoch ms). */
  private readonly capacityAt = new Map<string, number>();
  /** Per queue: until when the queue itself is rate limited (queue.rateLimit). */
  private readonly pausedUntil = new Map<string, number>();

  constructor(private readonly limit = CANDIDATES_PER_QUEUE) {}

  private set(queueName: string): Set<string> {
    let set = this.asking.get(queueName);
    if (set === undefined) {
      set = new Set<string>();
      this.asking.set(queueName, set);
    }
    return set;
  }

  /**
   * May this job become a candidate? If not, how long the queue should pause (0: it already is),
   * so that BullMQ does not hand the job straight back out.
   */
  enter(job: Job, now = Date.now()): { enter: true } | { enter: false; pauseMs: number } {
    const set = this.set(job.queueName);
    if (job.id === undefined || set.size < this.limit || set.has(job.id)) {
      if (job.id !== undefined) set.add(job.id);
      return { enter: true };
    }
    if ((this.pausedUntil.get(job.queueName) ?? 0) > now) return { enter: false, pauseMs: 0 };
    const pauseMs = Math.max(ASKING_PAUSE_MS, (this.capacityAt.get(job.queueName) ?? 0) - now);
    this.pausedUntil.set(job.queueName, now + pauseMs);
    return { enter: false, pauseMs };
  }

  /** The job got its first grant, or its run ended. */
  leave(job: Job): void {
    if (job.id !== undefined) this.asking.get(job.queueName)?.delete(job.id);
  }

  /** Every candidate slot of this process is taken: new jobs would only be handed back. */
  full(queueName: string): boolean {
    return this.set(queueName).size >= this.limit;
  }

  /** The limiter said no capacity for ms. */
  noCapacityFor(queueName: string, ms: number, now = Date.now()): void {
    this.capacityAt.set(queueName, now + ms);
  }

  /** The queue was rate limited for ms (queue.rateLimit). */
  paused(queueName: string, ms: number, now = Date.now()): void {
    this.capacityAt.set(queueName, now + ms);
    this.pausedUntil.set(queueName, now + ms);
  }
}
