import { crc32, deflateSync, constants as zc } from 'node:zlib';
import { fnv1a, mulberry32 } from './rng.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_SIDE = 16_384;

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Horizontal bands and tiles per band of the simulator's picture: enough structure for a perceptual hash. */
const BANDS = 8;
const TILES = 16;

/**
 * A real RGB PNG of exactly width×height. Colour and pattern come from seedText: the picture is
 * BANDS horizontal bands, each a row of TILES tiles whose brightness is drawn from the seed, over a
 * gradient on red, so two seeds give pictures a perceptual hash tells apart. `variant` (the
 * simulator's image counter) changes a few pixels so two generations of one prompt differ.
 * `blank` gives one flat colour from the seed (no pattern, no marker): a blank frame.
 *
 * Built with zlib directly rather than pngjs: pngjs needs ~1 s for 4096² while this takes
 * ~0.2 s. Every row of a band is the same, so rows after a band's first use the PNG "Up" filter
 * and are all zero bytes, which deflate (RLE strategy) compresses to almost nothing.
 */
export function makePng(width: number, height: number, seedText: string, variant = 0, blank = false): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`makePng: bad size ${width}x${height}`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) throw new RangeError(`makePng: side above ${MAX_SIDE}`);
  const h = fnv1a(seedText);
  const [r, g, b] = [h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff];
  const stride = 1 + width * 3;
  const rand = mulberry32(h);

  /** A band's row: the seed colour, a gradient on red, and the band's own tiles (drawn in band order). */
  const bandRow = (): Buffer => {
    const row = Buffer.alloc(width * 3);
    const tiles = Array.from({ length: TILES }, () => Math.floor(rand() * 128));
    for (let x = 0; x < width; x++) {
      const t = blank ? 0 : (tiles[Math.floor((x * TILES) / width)] as number);
      const grad = blank ? 0 : Math.floor((x * 32) / width);
      row[x * 3] = (r + grad + t) & 0xff;
      row[x * 3 + 1] = (g + t) & 0xff;
      row[x * 3 + 2] = (b + t) & 0xff;
    }
    return row;
  };
  const bands = Array.from({ length: BANDS }, bandRow);
  const bandOf = (y: number) => bands[Math.min(BANDS - 1, Math.floor((y * BANDS) / height))] as Buffer;

  // First row = its band's row with a marker: the variant and seed hash in the first pixels.
  const first = Buffer.from(bandOf(0));
  if (!blank) {
    const marker = Buffer.alloc(8);
    marker.writeUInt32BE(variant >>> 0, 0);
    marker.writeUInt32BE(h, 4);
    marker.copy(first, 0, 0, Math.min(8, first.length));
  }

  const raw = Buffer.alloc(stride * height); // zero-filled: "Up" rows equal to the row above
  raw[0] = 0; // filter None
  first.copy(raw, 1);
  let above: Buffer = first;
  for (let y = 1; y < height; y++) {
    const row = bandOf(y);
    raw[y * stride] = 2; // filter Up: only bytes that differ from the row above are non-zero
    if (row !== above) {
      for (let i = 0; i < row.length; i++) raw[y * stride + 1 + i] = ((row[i] ?? 0) - (above[i] ?? 0)) & 0xff;
    }
    above = row;
  }

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const idat = deflateSync(raw, { level: 6, strategy: zc.Z_RLE });
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Width and height from a PNG header (used to follow a reference image's aspect ratio). */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.subarray(0, 8).equals(SIGNATURE) || buf.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
