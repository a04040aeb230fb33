/**
 * @module Output QA policy and the review loop (api.md "Review and versions"): what a batch does with a
 * flagged output, and the request bodies of the review, regenerate and choose routes. One schema per
 * request, shared by the API (validation, OpenAPI) and the worker (the batch spec's policy).
 */
import { z } from 'zod';
import { aspectRatioSchema, customIdSchema, imageCountSchema, sizeSchema } from './common.js';

/** Most automatic regenerations per item a batch may ask for. */
export const MAX_QA_REGENERATIONS = 5;
/** Most versions one item keeps (automatic and requested regenerations together). */
export const MAX_ITEM_VERSIONS = 20;

export const qaOnFlagSchema = z.enum(['keep', 'regenerate']);
export type QaOnFlag = z.infer<typeof qaOnFlagSchema>;

/**
 * A batch's `qa`: `keep` (default) stores a flagged output like any other; `regenerate` generates the
 * flagged outputs again (a new version, its own provider call and cost) up to `max_regenerations` times
 * per item (default 1 with `regenerate`, 0 with `keep`).
 */
export const qaPolicyInputSchema = z.strictObject({
  on_flag: qaOnFlagSchema.optional(),
  max_regenerations: z.int().min(0).max(MAX_QA_REGENERATIONS).optional(),
});
export type QaPolicyInput = z.infer<typeof qaPolicyInputSchema>;

export interface QaPolicy {
  on_flag: QaOnFlag;
  max_regenerations: number;
}

/** The policy a batch runs with, defaults filled in. */
export function qaPolicyOf(input: QaPolicyInput | undefined): QaPolicy {
  const onFlag = input?.on_flag ?? 'keep';
  return {
    on_flag: onFlag,
    max_regenerations: input?.max_regenerations ?? (onFlag === 'regenerate' ? 1 : 0),
  };
}

export const reviewStatuses = ['pending', 'approved', 'rejected'] as const;
export type ReviewStatus = (typeof reviewStatuses)[number];
export const reviewActionSchema = z.enum(['approve', 'reject']);
export type ReviewAction = z.infer<typeof reviewActionSchema>;

const noteSchema = z.string().max(2000);

/** `POST /v1/batches/{id}/items/{item}/review`. */
export const itemReviewRequestSchema = z.strictObject({
  action: reviewActionSchema,
  note: noteSchema.optional(),
});
export type ItemReviewRequest = z.infer<typeof itemReviewRequestSchema>;

/** Most items one bulk review names. */
export const MAX_REVIEW_ITEMS = 1000;

/** `POST /v1/batches/{id}/items/review`: items named by `custom_ids` or by `item_ids` (not both). */
export const bulkReviewRequestSchema = z.strictObject({
  custom_ids: z.array(customIdSchema).min(1).max(MAX_REVIEW_ITEMS).optional(),
  item_ids: z
    .array(z.string().regex(/^item_[0-9a-z]{1,40}$/, 'Expected an item id (item_…)'))
    .min(1)
    .max(MAX_REVIEW_ITEMS)
    .optional(),
  action: reviewActionSchema,
  note: noteSchema.optional(),
});
export type BulkReviewRequest = z.infer<typeof bulkReviewRequestSchema>;

/**
 * A bulk review names its items by exactly one of `custom_ids` or `item_ids`: checked on the raw body,
 * so it is reported with every other problem (zod skips refinements of an object that has issues).
 */
export function bulkReviewNamingProblem(body: unknown): { path: string; message: string } | null {
  const b = (body ?? {}) as Record<string, unknown>;
  const given = (b.custom_ids !== undefined ? 1 : 0) + (b.item_ids !== undefined ? 1 : 0);
  return given === 1
    ? null
    : { path: 'custom_ids', message: 'Name the items by exactly one of custom_ids or item_ids' };
}

/**
 * `POST /v1/batches/{id}/items/{item}/regenerate`: the item is generated again as a new version; an
 * edited `prompt` or parameters replace the item's own (checked against its model like at submission).
 */
export const regenerateRequestSchema = z.strictObject({
  prompt: z.string().trim().min(1, 'Required').max(32_000).optional(),
  size: sizeSchema.optional(),
  aspect_ratio: aspectRatioSchema.nullable().optional(),
  n: imageCountSchema.optional(),
});
export type RegenerateRequest = z.infer<typeof regenerateRequestSchema>;

/**
 * `POST /v1/batches/{id}/items/{item}/choose`: which version (default: the newest) and which of its `n`
 * variants (`index`, default: all of them) is the item's chosen output.
 */
export const chooseRequestSchema = z
  .strictObject({
    version: z.int().min(1).max(MAX_ITEM_VERSIONS).optional(),
    index: z.int().min(0).max(9).nullable().optional(),
  })
  .refine((v) => v.version !== undefined || v.index !== undefined, {
    message: 'Give version, index or both',
    path: ['version'],
  });
export type ChooseRequest = z.infer<typeof chooseRequestSchema>;
