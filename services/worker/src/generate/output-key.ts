import {
  type BatchSpec,
  type GenerateJob,
  type Item,
  type ItemError,
  type KeyParts,
  ObjectKeyError,
  outputKeyFor,
  type Size,
} from '@pixelmill/core';

/** Keys are rendered (and refused when bad) by core's one function; the worker only fills the parts in. */
export { type KeyParts, outputKeyFor } from '@pixelmill/core';

/**
 * Where an item's outputs go (everything of the bucket key but the index), with what the item asked
 * for that the output checks compare against (generate/qa).
 */
export type OutputPlace = KeyParts & { tenantId: string; size: Size; aspectRatio: string | null };

/** Where an item's outputs go, from its batch's `output` settings; `model` fills `{model}`. */
export function keyPartsOf(spec: BatchSpec, data: GenerateJob, item: Item, model: string): OutputPlace {
  return {
    tenantId: data.tenant_id,
    size: item.size,
    aspectRatio: item.aspect_ratio,
    root: spec.output.root ?? '',
    prefix: spec.output.prefix,
    batchId: data.batch_id,
    customId: item.custom_id,
    format: spec.output.format,
    keyTemplate: spec.output.key_template,
    itemId: data.item_id,
    model,
    version: item.version,
  };
}

/**
 * Why the item's outputs cannot be stored (a key refused by outputKeyFor), checked before anything is
 * paid for; null when every key renders. Acceptance refuses such items, so this holds only for what it
 * could not see: a fallback model whose id makes `{model}` too long.
 */
export function unstorableKeys(place: KeyParts, n: number): ItemError | null {
  try {
    for (let index = 0; index < n; index++) outputKeyFor(place, index);
    return null;
  } catch (err) {
    if (!(err instanceof ObjectKeyError)) throw err;
    return { code: 'storage_error', message: err.message, retryable: false };
  }
}
