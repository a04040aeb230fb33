import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { makePng, padPng, pngSize } from './png.js';
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

  it('gives the same pixels from a picture seen before, differing from another variant only in the marker row', () => {
    for (const [w, h] of [
      [3, 1],
      [5, 2],
      [5, 3],
      [40, 17],
      [300, 200],
    ] as const) {
      const seed = `same picture ${w}x${h}`;
      const fresh = makePng(w, h, seed, 7);
      // Second call: the rows after the second come from the cache; the bytes are the same.
      expect(makePng(w, h, seed, 7).equals(fresh)).toBe(true);
      // pngjs inflates with zlib, which checks the combined Adler-32.
      const a = PNG.sync.read(fresh).data;
      const b = PNG.sync.read(makePng(w, h, seed, 8)).data;
      const rowBytes = w * 4;
      expect(a.subarray(rowBytes).equals(b.subarray(rowBytes))).toBe(true);
      expect(a.subarray(0, rowBytes).equals(b.subarray(0, rowBytes))).toBe(false);
      // Rows of one band are the same (the marker aside): with more rows than bands, row 1 is row 0's band.
      if (h > 8) expect(a.subarray(rowBytes + 12, 2 * rowBytes).equals(a.subarray(12, rowBytes))).toBe(true);
    }
  });

  it('pads a PNG with a chunk decoders skip: same pixels, the file longer by the padding and its chunk header', () => {
    const png = makePng(64, 48, 'padded');
    const padded = padPng(png, 10_000);
    expect(padded.length).toBe(png.length + 10_000 + 12);
    expect(PNG.sync.read(padded).data.equals(PNG.sync.read(png).data)).toBe(true);
    expect(padPng(png, 10_000).equals(padded)).toBe(true);
    expect(padPng(png, 0)).toBe(png);
  });

  it('rejects impossible sizes', () => {
    expect(() => makePng(0, 10, 'x')).toThrow(RangeError);
    expect(() => makePng(10.5, 10, 'x')).toThrow(RangeError);
  });

  it('pngSize ignores non-PNG bytes', () => {
    expect(pngSize(Buffer.from('not a png at all, clearly not'))).toBeUndefined();
  });
});
