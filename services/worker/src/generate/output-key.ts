import {
  type BatchSpec,
  DEFAULT_KEY_TEMPLATE,
  type GenerateJob,
  type Item,
  type OutputFormat,
  renderKeyTemplate,
} from '@pixelmill/core';

/** File extension of each output format (jpeg is written `.jpg`). */
export const extensionOf: Record<OutputFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

/** What a bucket key of an item's output is made of (`output.key_template`, api.md). */
export interface KeyParts {
  prefix: string;
  batchId: string;
  customId: string;
  format: OutputFormat;
  /** The batch's `output.key_template`; absent on batches from before templates: the default. */
  keyTemplate?: string | undefined;
  itemId?: string | undefined;
  model?: string | undefined;
}

/** Where an item's outputs go, from its batch's `output` settings; `model` fills `{model}`. */
export function keyPartsOf(spec: BatchSpec, data: GenerateJob, item: Item, model: string): KeyParts {
  return {
    prefix: spec.output.prefix,
    batchId: data.batch_id,
    customId: item.custom_id,
    format: spec.output.format,
    keyTemplate: spec.output.key_template,
    itemId: data.item_id,
    model,
  };
}

/** The bucket key of one output; the template was validated at submission. */
export function outputKeyFor(parts: KeyParts, index: number): string {
  return renderKeyTemplate(parts.keyTemplate ?? DEFAULT_KEY_TEMPLATE, {
    prefix: parts.prefix,
    batch_id: parts.batchId,
    custom_id: parts.customId,
    item_id: parts.itemId ?? '',
    index,
    ext: extensionOf[parts.format],
    model: parts.model ?? '',
  });
}
