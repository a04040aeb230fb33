import {
  type BatchFile,
  type BatchSpec,
  batchFileKey,
  type FieldProblem,
  type Item,
  type ItemSpec,
  itemIdFor,
  type KeyParts,
  ObjectKeyError,
  outputKeyFor,
} from '@pixelmill/core';
import type { Locate } from './resolve-items.js';

/** The parts of every output key of one batch that do not depend on the item. */
export type BatchKeyParts = Omit<KeyParts, 'customId' | 'itemId' | 'model'>;

const BATCH_FILES: readonly BatchFile[] = ['manifest.jsonl', 'results.csv'];

/**
 * Renders every output key of an item exactly as the worker will (core's outputKeyFor, under the
 * tenant's root) and names the item's custom_id for each key that is refused: too long for S3, an
 * empty, `.` or `..` segment, a segment too long for a file name, or the batch's own manifest.jsonl or
 * results.csv. The item's model and n come from its resolved spec.
 */
export function itemKeyProblems(batch: BatchKeyParts, spec: ItemSpec, locate: Locate): FieldProblem[] {
  const parts: KeyParts = {
    ...batch,
    customId: spec.custom_id,
    itemId: batch.keyTemplate?.includes('{item_id}') ? itemIdFor(batch.batchId, spec.custom_id) : '',
    model: spec.model,
  };
  const reserved = BATCH_FILES.map((file) => batchFileKey(batch, file));
  for (let index = 0; index < spec.n; index++) {
    try {
      const key = outputKeyFor(parts, index);
      if (reserved.includes(key)) {
        return [
          {
            path: locate('custom_id'),
            message: `The output key ${key} is the batch's own ${key.slice(key.lastIndexOf('/') + 1)}`,
          },
        ];
      }
    } catch (err) {
      if (!(err instanceof ObjectKeyError)) throw err;
      return [
        {
          path: locate('custom_id'),
          message: `The output key for this item is not usable: ${err.problems.join('; ')}`,
        },
      ];
    }
  }
  return [];
}

/**
 * The batch's output settings tried on a short item id: a problem here is the prefix's or the
 * template's whatever the items are, so it is named once on `output.*` instead of on every item.
 */
export function headerKeyProblems(batch: BatchKeyParts, locateHeader: Locate, model: string): FieldProblem[] {
  const sample: ItemSpec = {
    custom_id: 'x',
    model,
    prompt: 'x',
    size: '1K',
    aspect_ratio: null,
    n: 1,
    reference_images: [],
    metadata: {},
  };
  const problems = itemKeyProblems(batch, sample, () => '');
  if (problems.length === 0) return [];
  const field =
    batch.prefix !== '' && itemKeyProblems({ ...batch, prefix: '' }, sample, () => '').length === 0
      ? 'output.prefix'
      : 'output.key_template';
  return problems.map((p) => ({
    path: locateHeader(field),
    message: p.message.replace('for this item', 'of every item'),
  }));
}

/**
 * Whether every key of an item's next version renders (`versions/<N>/` makes keys longer): the
 * problem as a sentence, or null. Checked before a regeneration is queued, so none is paid for that
 * could not be stored.
 */
export function checkRegeneratedKeys(
  spec: BatchSpec,
  batchId: string,
  item: Pick<Item, 'custom_id' | 'id' | 'model'>,
  n: number,
  version: number,
): string | null {
  const parts: KeyParts = {
    root: spec.output.root ?? '',
    prefix: spec.output.prefix,
    batchId,
    customId: item.custom_id,
    format: spec.output.format,
    keyTemplate: spec.output.key_template,
    itemId: item.id,
    model: item.model,
    version,
  };
  try {
    for (let index = 0; index < n; index++) outputKeyFor(parts, index);
    return null;
  } catch (err) {
    if (!(err instanceof ObjectKeyError)) throw err;
    return `Version ${version} of this item has no usable key: ${err.problems.join('; ')}`;
  }
}
