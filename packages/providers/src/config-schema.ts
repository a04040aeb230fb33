/**
 * Schema of one entry of PIXELMILL_CONFIG's `providers` list (api.md, LiteLLM-style, snake_case).
 * The config package validates the file with it; buildRegistry turns parsed entries into specs.
 * @module
 */
import { z } from 'zod';

const sizeSchema = z.enum(['512', '1K', '2K', '4K']);

/** `${VAR}` interpolation leaves '' for an unset variable: treat it as "not given". */
const blankAsUndefined = (value: unknown) => (value === '' ? undefined : value);

export const modelConfigEntrySchema = z
  .object({
    id: z.string().min(1),
    upstream_id: z.string().min(1).optional(),
    aliases: z.array(z.string().min(1)).optional(),
    sizes: z.array(sizeSchema).min(1).optional(),
    aspect_ratios: z
      .array(z.string().regex(/^\d+(\.\d+)?:\d+(\.\d+)?$/, 'aspect ratio must look like 4:5'))
      .min(1)
      .optional(),
    max_reference_images: z.number().int().min(0).optional(),
    max_images_per_call: z.number().int().min(1).max(10).optional(),
    /** Extension: whether to send imageSize / image_size (false for models that reject it). */
    send_image_size: z.boolean().optional(),
    price_usd: z.partialRecord(sizeSchema, z.number().nonnegative()).optional(),
    /** Price per image through the provider's batch API; default half of `price_usd`. */
    batch_price_usd: z.partialRecord(sizeSchema, z.number().nonnegative()).optional(),
    /** Whether batches may use the economy lane on this model; default true for gemini and openai-images. */
    economy: z.boolean().optional(),
    rpm: z.number().positive().optional(),
    ipm: z.number().positive().optional(),
    concurrency: z.number().int().positive().optional(),
    timeout_s: z.number().positive().optional(),
    fallback: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const providerConfigEntrySchema = z
  .object({
    name: z.string().min(1),
    kind: z.enum(['gemini', 'openai-images', 'openai-chat']),
    base_url: z.preprocess(blankAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
    /** Blank entries (unset variables) are dropped by buildRegistry. */
    api_keys: z.array(z.string()).default([]),
    /** Default timeout for this provider's models. */
    timeout_s: z.number().positive().optional(),
    models: z.array(modelConfigEntrySchema).min(1),
  })
  .strict();

export type ModelConfigEntry = z.output<typeof modelConfigEntrySchema>;
export type ProviderConfigEntry = z.output<typeof providerConfigEntrySchema>;
