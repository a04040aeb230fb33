/** @module Where a generated image lives in the bucket (api.md: `<prefix><batch>/<custom_id>/<n>.<ext>`). */

export interface OutputKeyParts {
  /** Client-chosen folder such as `catalog/fall/`; may be empty. */
  prefix: string;
  batchId: string;
  customId: string;
  index: number;
  ext: string;
}

/** Adds the trailing `/` a non-empty prefix needs, so `catalog/fall` and `catalog/fall/` agree. */
export function normalizePrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * @example outputKey({ prefix: 'catalog/fall', batchId: 'batch_1', customId: 'sku-1', index: 0, ext: 'png' })
 * // 'catalog/fall/batch_1/sku-1/0.png'
 */
export function outputKey({ prefix, batchId, customId, index, ext }: OutputKeyParts): string {
  return `${normalizePrefix(prefix)}${batchId}/${customId}/${index}.${ext}`;
}
