import type { Preview } from './preview.js';

const COLS = 9;
const ROWS = 8;

/** Luma (Rec. 601) of pixel i of a raw image with 1-4 interleaved channels. */
function luma(p: Preview, i: number): number {
  const o = i * p.channels;
  if (p.channels <= 2) return p.pixels[o] as number;
  return (
    0.299 * (p.pixels[o] as number) +
    0.587 * (p.pixels[o + 1] as number) +
    0.114 * (p.pixels[o + 2] as number)
  );
}

/**
 * The 64-bit difference hash (dHash) of an image, as 16 hex digits: the luma averaged over a 9 x 8
 * grid, one bit per horizontal neighbour pair (1 when the right cell is brighter), row by row.
 * Re-encoding, rescaling and small edits change few bits; different pictures differ in about half.
 */
export function dhash(p: Preview): string {
  const sum = new Float64Array(COLS * ROWS);
  const count = new Uint32Array(COLS * ROWS);
  for (let y = 0; y < p.height; y++) {
    const row = Math.min(ROWS - 1, Math.floor((y * ROWS) / p.height));
    for (let x = 0; x < p.width; x++) {
      const cell = row * COLS + Math.min(COLS - 1, Math.floor((x * COLS) / p.width));
      sum[cell] = (sum[cell] as number) + luma(p, y * p.width + x);
      count[cell] = (count[cell] as number) + 1;
    }
  }
  // A cell no pixel fell in (an image narrower than 9 or shorter than 8 px) takes its nearest pixel.
  const cellValue = (r: number, c: number): number => {
    const k = r * COLS + c;
    if ((count[k] as number) > 0) return (sum[k] as number) / (count[k] as number);
    const x = Math.min(p.width - 1, Math.floor(((c + 0.5) * p.width) / COLS));
    const y = Math.min(p.height - 1, Math.floor(((r + 0.5) * p.height) / ROWS));
    return luma(p, y * p.width + x);
  };
  let hex = '';
  for (let r = 0; r < ROWS; r++) {
    let byte = 0;
    for (let c = 0; c < COLS - 1; c++) byte = (byte << 1) | (cellValue(r, c + 1) > cellValue(r, c) ? 1 : 0);
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}
