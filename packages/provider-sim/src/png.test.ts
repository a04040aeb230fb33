import { describe, expect, it } from 'vitest';
import { makePng, pngSize } from './png.js';
import { pngDims } from './test-support/helpers.js';

describe('makePng', () => {
  it('produces decodable PNGs of exactly the requested size', () => {
    for (const [w, h] of [
      [1, 1],
      [17, 5],
      [1024, 1024],
      [1376, 768],
      [512, 4096],
    ] as const) {
      const png = makePng(w, h, 'a prompt');
      expect(pngDims(png)).toEqual({ width: w, height: h });
      expect(pngSize(png)).toEqual({ width: w, height: h });
    }
  });

  it('derives colour from the seed text and varies pixels by the counter', () => {
    const a = makePng(64, 64, 'red shoe');
    expect(makePng(64, 64, 'red shoe').equals(a)).toBe(true);
    expect(makePng(64, 64, 'blue shoe').equals(a)).toBe(false);
    expect(makePng(64, 64, 'red shoe', 1).equals(makePng(64, 64, 'red shoe', 2))).toBe(false);
  });

  // Encoding speed is not asserted here (tests assert behaviour); the 4K case checks size and shape.
  it('encodes a 4096x4096 image as a compact, valid PNG', () => {
    const png = makePng(4096, 4096, 'big');
    expect(png.length).toBeLessThan(2_000_000);
    expect(pngDims(png)).toEqual({ width: 4096, height: 4096 });
  });

  it('rejects impossible sizes', () => {
    expect(() => makePng(0, 10, 'x')).toThrow(RangeError);
    expect(() => makePng(10.5, 10, 'x')).toThrow(RangeError);
  });

  it('pngSize ignores non-PNG bytes', () => {
    expect(pngSize(Buffer.from('not a png at all, clearly not'))).toBeUndefined();
  });
});
