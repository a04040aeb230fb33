import { describe, expect, it } from 'vitest';
import { outputKey } from './output-key.js';

describe('outputKey', () => {
  const parts = { batchId: 'batch_1', customId: 'sku-1001-front', index: 2, ext: 'png' };

  it('joins prefix, batch, custom id and index', () => {
    expect(outputKey({ ...parts, prefix: 'catalog/fall/' })).toBe(
      'catalog/fall/batch_1/sku-1001-front/2.png',
    );
  });

  it('adds the missing slash to a prefix', () => {
    expect(outputKey({ ...parts, prefix: 'catalog/fall' })).toBe('catalog/fall/batch_1/sku-1001-front/2.png');
  });

  it('keeps an empty prefix empty', () => {
    expect(outputKey({ ...parts, prefix: '' })).toBe('batch_1/sku-1001-front/2.png');
  });
});
