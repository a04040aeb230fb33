/**
 * @module The job catalog: every BullMQ job by name, with its payload schema (parsed on enqueue here,
 * and by each worker on dequeue), its default options and its job id rule. The API and the workers
 * build and add jobs only through {@link jobFor} and {@link enqueue}.
 */
import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';
import type { Queues } from '../queues.js';
import {
  deliverJobSchema,
  economyJobId,
  economyJobSchema,
  finalizeJobSchema,
  flushItemsJobSchema,
  generateJobSchema,
} from '../schemas/jobs.js';

type QueueKind = 'generate' | 'finalize' | 'deliver' | 'economy';

export interface JobKind<S extends z.ZodType = z.ZodType, Q extends QueueKind = QueueKind> {
  readonly name: string;
  /** The queue it goes on: `generate` is one queue per model (Queues.generate). */
  readonly queue: Q;
  readonly schema: S;
  readonly options: Readonly<JobsOptions>;
  /**
   * The job id, so that adding the same job twice is a no-op while it waits or runs; `round` is the
   * item's retry round (generate) or the delivery's redelivery (deliver). Absent: BullMQ's own ids.
   */
  readonly jobId?: (data: z.output<S>, round: number) => string;
}

const kind = <S extends z.ZodType, Q extends QueueKind>(k: JobKind<S, Q>): JobKind<S, Q> => k;

/** The generation job of an item's retry round: round 0 keeps the item id (enqueueing stays idempotent). */
export const generateJobId = (itemId: string, round: number): string =>
  round > 0 ? `${itemId}-r${round}` : itemId;

/** The retry round a generation job was made for, from its id (generateJobId's inverse). */
export const roundOfGenerateJob = (jobId: string): number => Number(/-r(\d+)$/.exec(jobId)?.[1] ?? 0);

const WEEK_S = 7 * 24 * 3600;
/** Finalize and expire: a crash or a Redis error is retried; the job id keeps one per batch. */
const finalizeOptions: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
};

export const jobs = {
  /**
   * One item's generation. Item state lives in the batch store, so finished jobs are removed at once;
   * failed jobs stay a week for the queue dashboard. `attempts` is the deployment's item attempts.
   */
  generate: kind({
    name: 'generate',
    queue: 'generate',
    schema: generateJobSchema,
    // 'provider' is the workers' custom backoff: the provider's retry hint, else jittered exponential.
    options: { backoff: { type: 'provider' }, removeOnComplete: true, removeOnFail: { age: WEEK_S } },
    jobId: (data, round) => generateJobId(data.item_id, round),
  }),
  /** A batch's finalize step (manifest, results, completion event), queued by whoever ended its last item. */
  finalize: kind({
    name: 'finalize',
    queue: 'finalize',
    schema: finalizeJobSchema,
    options: finalizeOptions,
    jobId: (data) => `finalize-${data.batch_id}`,
  }),
  /** A batch's deadline: delayed until `expires_at`, it ends the batch's queued items `expired`. */
  expire: kind({
    name: 'expire',
    queue: 'finalize',
    schema: finalizeJobSchema,
    options: finalizeOptions,
    jobId: (data) => `expire-${data.batch_id}`,
  }),
  /**
   * After a cancel: removes the jobs of the batch's cancelled items from their queues, off the request
   * (a job it misses is dropped by the worker's gate). `change` is the batch's retry round: one sweep
   * per cancel of each round (a cancel after a retry gets its own, even while the last one runs).
   */
  sweepCancelled: kind({
    name: 'sweep-cancelled',
    queue: 'finalize',
    schema: finalizeJobSchema,
    options: finalizeOptions,
    jobId: (data) => `sweep-${data.batch_id}-${data.change ?? 0}`,
  }),
  /**
   * Rewrites a completed batch's manifest.jsonl and results.csv after a review or a choice changed an
   * item (api.md "Review and versions"). Delayed, so a burst of reviews is written once; `change` is
   * the batch's change counter (BatchStore.markFilesChanged): a job whose change is no longer the
   * newest does nothing, as a newer one follows it.
   */
  refreshFiles: kind({
    name: 'refresh-files',
    queue: 'finalize',
    schema: finalizeJobSchema,
    options: {
      delay: 1000,
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    },
    jobId: (data) => `refresh-${data.batch_id}-${data.change ?? 0}`,
  }),
  /**
   * One provider batch job of the economy lane (a pack of one batch's items of one model). Its
   * attempts cover crashes and Redis or provider errors while it is created, polled and unpacked.
   */
  economy: kind({
    name: 'economy',
    queue: 'economy',
    schema: economyJobSchema,
    options: {
      attempts: 20,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: true,
      removeOnFail: { age: WEEK_S },
    },
    jobId: (data) => economyJobId(data.batch_id, data.pack),
  }),
  /**
   * A delivery queued as a job by an earlier version. Deliveries are now claimed from the store
   * (DeliveryStore.claim); a worker that takes such a job only makes its delivery due.
   */
  deliver: kind({
    name: 'deliver',
    queue: 'deliver',
    schema: deliverJobSchema,
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: WEEK_S },
    },
    jobId: (data, round) => (round > 0 ? `${data.delivery_id}-r${round}` : data.delivery_id),
  }),
  /** Sends a batch's waiting item events for one target as `items.completed` deliveries. */
  flushItems: kind({
    name: 'flush-items',
    queue: 'deliver',
    schema: flushItemsJobSchema,
    options: { removeOnComplete: true, removeOnFail: { age: WEEK_S }, attempts: 5 },
  }),
} as const;

export interface EnqueueOptions {
  /** The retry round or redelivery the job id follows (default 0). */
  round?: number;
  /** Per-job options over the kind's defaults (delay, attempts, or a job id to keep). */
  options?: JobsOptions;
}

/** A job ready for `Queue.add` / `addBulk`: the payload parsed, the options and job id filled in. */
export function jobFor<S extends z.ZodType>(
  kind: JobKind<S>,
  data: z.input<S>,
  { round = 0, options }: EnqueueOptions = {},
): { name: string; data: z.output<S>; opts: JobsOptions } {
  const parsed = kind.schema.parse(data);
  return {
    name: kind.name,
    data: parsed,
    opts: { ...kind.options, ...(kind.jobId ? { jobId: kind.jobId(parsed, round) } : {}), ...options },
  };
}

/** The id a job of this kind has (to find or remove it): the kind's job id rule over the parsed payload. */
export function jobIdOf<S extends z.ZodType>(kind: JobKind<S>, data: z.input<S>, round = 0): string {
  if (kind.jobId === undefined) throw new Error(`${kind.name} jobs have BullMQ's own ids`);
  return kind.jobId(kind.schema.parse(data), round);
}

/**
 * Adds one job to its queue. Generation jobs go through the fair scheduler instead
 * (`createFairScheduler(...).addBulk(queue, flow, [jobFor(jobs.generate, ...)])`).
 */
export async function enqueue<S extends z.ZodType>(
  queues: Queues,
  kind: JobKind<S, 'finalize' | 'deliver' | 'economy'>,
  data: z.input<S>,
  options: EnqueueOptions = {},
): Promise<void> {
  const job = jobFor(kind, data, options);
  await queues[kind.queue].add(job.name, job.data, job.opts);
}
