import { z } from 'zod';
import {
  aspectRatioSchema,
  batchModelSchema,
  batchModeSchema,
  batchWebhookEventTypeSchema,
  customIdSchema,
  imageCountSchema,
  metadataSchema,
  outputFormatSchema,
  prioritySchema,
  sizeSchema,
  webhookRateLimitSchema,
  webhookSecretSchema,
} from './common.js';
import { keyTemplateSchema } from './key-template.js';
import { promptTemplateSchema, varsSchema } from './prompt-template.js';
import { qaPolicyInputSchema } from './review.js';
import { itemEventsModeSchema } from './webhook-endpoint.js';

/** Most images one item may reference; the model may allow fewer (checked against the registry). */
export const MAX_REFERENCE_IMAGES = 16;

export const itemParamsSchema = z.strictObject({
  size: sizeSchema.optional(),
  aspect_ratio: aspectRatioSchema.optional(),
  n: imageCountSchema.optional(),
});

/** Longest prompt, also after a template is filled in. */
export const MAX_PROMPT_CHARS = 32_000;

export const batchItemInputSchema = z.strictObject({
  custom_id: customIdSchema,
  // Optional here: an item without a prompt takes the batch's prompt_template (checked when resolving).
  prompt: z.string().trim().min(1, 'Required').max(MAX_PROMPT_CHARS).optional(),
  vars: varsSchema.optional(),
  model: batchModelSchema.optional(),
  size: sizeSchema.optional(),
  aspect_ratio: aspectRatioSchema.optional(),
  n: imageCountSchema.optional(),
  reference_images: z.array(z.string().min(1).max(2048)).max(MAX_REFERENCE_IMAGES).optional(),
  metadata: metadataSchema.optional(),
});
export type BatchItemInput = z.infer<typeof batchItemInputSchema>;

export const webhookInputSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'Expected an http(s) URL' }),
  secret: webhookSecretSchema.optional(),
  events: z.array(batchWebhookEventTypeSchema).min(1).optional(),
  /** `grouped` (default) or `each`; see webhook-endpoint.ts. */
  item_events: itemEventsModeSchema.optional(),
  /** Deliveries per second to this URL at most, across all workers; unset: no limit. */
  rate_limit: webhookRateLimitSchema.optional(),
});

export const outputInputSchema = z.strictObject({
  // The prefix is the start of every object key; no leading slash and no `..` segments.
  prefix: z
    .string()
    .max(512)
    .regex(
      /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9!_.*'()/=+-]*$/,
      'Use a relative key prefix like "catalog/fall/"',
    )
    .optional(),
  format: outputFormatSchema.optional(),
  key_template: keyTemplateSchema.optional(),
});

/** Everything about a batch except its items: the JSON body's top level and the NDJSON header line. */
export const batchHeaderSchema = z.strictObject({
  model: batchModelSchema,
  defaults: itemParamsSchema.optional(),
  prompt_template: promptTemplateSchema.optional(),
  webhook: webhookInputSchema.optional(),
  output: outputInputSchema.optional(),
  priority: prioritySchema.optional(),
  /** `realtime` (default) or `economy`; see batchModeSchema. */
  mode: batchModeSchema.optional(),
  metadata: metadataSchema.optional(),
  /** Items not started by then end `expired`. */
  expires_at: z.iso
    .datetime({ offset: true, error: 'Expected an RFC 3339 time like 2026-12-01T00:00:00Z' })
    .refine((t) => Date.parse(t) > Date.now(), 'Must be in the future')
    .optional(),
  /** Reuse an identical earlier generation of this tenant instead of paying for it again. */
  dedupe: z.boolean().optional(),
  /** What a flagged output leads to (api.md "Review and versions"); default `keep`. */
  qa: qaPolicyInputSchema.optional(),
});
export type BatchHeader = z.infer<typeof batchHeaderSchema>;

export const createBatchRequestSchema = batchHeaderSchema.extend({
  items: z.array(batchItemInputSchema).min(1, 'A batch needs at least one item'),
});
export type CreateBatchRequest = z.infer<typeof createBatchRequestSchema>;

/**
 * Duplicate custom_ids, found on the raw input so they are reported together with every other problem
 * (zod skips refinements of an object that already has issues).
 */
export function duplicateCustomIds(items: unknown): { index: number; firstIndex: number }[] {
  if (!Array.isArray(items)) return [];
  const seen = new Map<string, number>();
  const dups: { index: number; firstIndex: number }[] = [];
  items.forEach((item, index) => {
    const id = (item as { custom_id?: unknown } | null)?.custom_id;
    if (typeof id !== 'string') return;
    const firstIndex = seen.get(id);
    if (firstIndex === undefined) seen.set(id, index);
    else dups.push({ index, firstIndex });
  });
  return dups;
}
