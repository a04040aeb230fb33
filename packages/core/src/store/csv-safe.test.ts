import { describe, expect, test } from 'vitest';
import { csvSafe } from './csv-safe.js';

describe('csvSafe', () => {
  test('a cell a spreadsheet would run as a formula starts with a quote', () => {
    for (const cell of ['=HYPERLINK("x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1'])
      expect(csvSafe(cell), JSON.stringify(cell)).toBe(`'${cell}`);
  });

  test('every other cell is unchanged', () => {
    for (const cell of ['sku-1001', 'a=b', '', 'https://x/y?a=1', "'already", ' =1', '1.5'])
      expect(csvSafe(cell), JSON.stringify(cell)).toBe(cell);
  });
});
