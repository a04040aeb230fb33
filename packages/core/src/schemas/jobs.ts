import { z } from 'zod';

/**
 * Every BullMQ job's payload, declared once: jobs/catalog.ts parses it on enqueue (with each job's
 * options and id rule), and each worker parses it on dequeue. Jobs carry ids only; prompts and
 * parameters live in the item record, images never enter Redis.
 */
export const generateJobSchema = z.strictObject({
  batch_id: z.string(),
  item_id: z.string(),
  tenant_id: z.string(),
  /** The model this job runs on when it is not the item's own: a fallback the worker moved it to. */
  model: z.string().optional(),
});
export type GenerateJob = z.infer<typeof generateJobSchema>;

/**
 * One provider batch job of the economy lane: a pack of items of one batch and one model, in the
 * order they were accepted. `pack` numbers the batch's packs; with the batch id it names the job.
 */
export const economyJobSchema = z.strictObject({
  batch_id: z.string(),
  tenant_id: z.string(),
  model: z.string(),
  pack: z.int().min(0),
  item_ids: z.array(z.string()).min(1),
});
export type EconomyJob = z.infer<typeof economyJobSchema>;

/** BullMQ id of a pack's job: one job per pack however often acceptance or a worker adds it. */
export const economyJobId = (batchId: string, pack: number): string => `econ-${batchId}-${pack}`;

export const finalizeJobSchema = z.strictObject({
  batch_id: z.string(),
  tenant_id: z.string(),
  /** `refresh-files`: the batch's change counter when the job was queued; `sweep-cancelled`: its retry round. */
  change: z.int().optional(),
});
export type FinalizeJob = z.infer<typeof finalizeJobSchema>;

/** A delivery queued as a job by an earlier version (jobs.deliver): read only to make it due. */
export const deliverJobSchema = z.strictObject({
  delivery_id: z.string(),
  tenant_id: z.string(),
  /** The delivery's endpoint (null: the batch's own webhook); absent in the oldest such jobs. */
  endpoint_id: z.string().nullable().optional(),
});
export type DeliverJob = z.infer<typeof deliverJobSchema>;

/**
 * On the deliver queue too: bundles a batch's waiting item events for one target (the batch's webhook,
 * `target: "batch"`, or an endpoint id) into `items.completed` deliveries. `full` sends only full
 * groups (the group reached its size), `all` sends everything waiting (its wait ended, or the batch did).
 */
export const flushItemsJobSchema = z.strictObject({
  batch_id: z.string(),
  tenant_id: z.string(),
  target: z.string(),
  mode: z.enum(['full', 'all']),
});
export type FlushItemsJob = z.infer<typeof flushItemsJobSchema>;

/** Queue names. One generation queue per model, so a throttled model never holds up another's items. */
export const queueNames = {
  generate: (modelId: string): string => `generate-${modelId.replace(/[^A-Za-z0-9._-]/g, '_')}`,
  finalize: 'finalize',
  deliver: 'deliver',
  economy: 'economy',
} as const;
