import { crc32, deflateRawSync, constants as zc } from 'node:zlib';
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

/** zlib stream header: deflate, 32 KiB window, default compression (RFC 1950). */
const ZLIB_HEADER = Buffer.from([0x78, 0x9c]);
const ADLER_BASE = 65_521;

/** Adler-32 of bytes (RFC 1950), the zlib stream's checksum. */
function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; ) {
    const end = Math.min(bytes.length, i + 5552);
    for (; i < end; i++) {
      a += bytes[i] as number;
      b += a;
    }
    a %= ADLER_BASE;
    b %= ADLER_BASE;
  }
  return ((b << 16) | a) >>> 0;
}

/** Adler-32 of first ‖ second from their own checksums and the second's length (zlib's adler32_combine). */
function adler32Combine(first: number, second: number, secondLength: number): number {
  const rem = secondLength % ADLER_BASE;
  let sum1 = first & 0xffff;
  let sum2 = (rem * sum1) % ADLER_BASE;
  sum1 += (second & 0xffff) + ADLER_BASE - 1;
  sum2 += ((first >>> 16) & 0xffff) + ((second >>> 16) & 0xffff) + ADLER_BASE - rem;
  if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
  if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
  if (sum2 >= ADLER_BASE * 2) sum2 -= ADLER_BASE * 2;
  if (sum2 >= ADLER_BASE) sum2 -= ADLER_BASE;
  return ((sum2 << 16) | sum1) >>> 0;
}

/** The filtered rows from the third on, compressed on their own, with their checksum and length. */
interface Body {
  deflated: Buffer;
  adler: number;
  length: number;
}

/**
 * Bodies of recent pictures by size, seed and blankness: a picture's rows after the second do not
 * depend on the variant, so a results file of many images of one prompt (say 1,000 4K images)
 * compresses them once. A few entries; each is the compressed size (tens of kB for 4096²).
 */
const bodies = new Map<string, Body>();
const BODY_CACHE = 16;

const deflateOptions = { level: 6, strategy: zc.Z_RLE } as const;

/**
 * A real RGB PNG of exactly width×height. Colour and pattern come from seedText: the picture is
 * BANDS horizontal bands, each a row of TILES tiles whose brightness is drawn from the seed, over a
 * gradient on red, so two seeds give pictures a perceptual hash tells apart. `variant` (the
 * simulator's image counter) changes a few pixels so two generations of one prompt differ.
 * `blank` gives one flat colour from the seed (no pattern, no marker): a blank frame.
 *
 * Built with zlib directly rather than pngjs: pngjs needs ~1 s for 4096² while this takes
 * ~0.2 s, and a picture seen before (same size and seed) well under 1 ms. Every row of a band is the
 * same, so rows after a band's first use the PNG "Up" filter and are all zero bytes, which deflate
 * (RLE strategy) compresses to almost nothing. Only the first two filtered rows carry the variant:
 * they are compressed as their own deflate blocks (ending in a full flush), followed by the rest,
 * compressed once per picture and kept in a small cache, with the checksums combined.
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

  /** Filtered rows [from, to): row `from` is filtered against `above`, the rest against their band. */
  const filtered = (from: number, to: number, above: Buffer): Buffer => {
    const raw = Buffer.alloc(stride * (to - from)); // zero-filled: "Up" rows equal to the row above
    for (let y = from; y < to; y++) {
      const at = (y - from) * stride;
      const row = y === 0 ? first : bandOf(y);
      if (y === 0) {
        raw[at] = 0; // filter None
        row.copy(raw, at + 1);
        above = row;
        continue;
      }
      raw[at] = 2; // filter Up: only bytes that differ from the row above are non-zero
      if (row !== above) {
        for (let i = 0; i < row.length; i++) raw[at + 1 + i] = ((row[i] ?? 0) - (above[i] ?? 0)) & 0xff;
      }
      above = row;
    }
    return raw;
  };

  // Rows 0 and 1 depend on the variant (row 1 is filtered against the marked row 0); the rest do not.
  const split = Math.min(2, height);
  const head = filtered(0, split, first);
  let deflated: Buffer;
  let adler: number;
  if (split === height) {
    deflated = deflateRawSync(head, deflateOptions);
    adler = adler32(head);
  } else {
    const cacheKey = `${width}x${height}:${h}:${blank ? 1 : 0}`;
    let body = bodies.get(cacheKey);
    if (body === undefined) {
      const tail = filtered(split, height, bandOf(split - 1));
      body = { deflated: deflateRawSync(tail, deflateOptions), adler: adler32(tail), length: tail.length };
      if (bodies.size >= BODY_CACHE) bodies.delete(bodies.keys().next().value as string);
    } else {
      bodies.delete(cacheKey); // most recent last
    }
    bodies.set(cacheKey, body);
    // A full flush ends the head's blocks on a byte boundary with an empty dictionary, so the body's
    // own deflate stream continues it.
    const start = deflateRawSync(head, { ...deflateOptions, finishFlush: zc.Z_FULL_FLUSH });
    deflated = Buffer.concat([start, body.deflated]);
    adler = adler32Combine(adler32(head), body.adler, body.length);
  }
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(adler, 0);

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const idat = Buffer.concat([ZLIB_HEADER, deflated, checksum]);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Longest padding a picture may carry (`[sim-pad:<kB>]`). */
const MAX_PAD_BYTES = 64 * 1024 * 1024;
let filler = Buffer.alloc(0);

/**
 * The PNG with `bytes` more of filler in a private ancillary chunk (`pmPd`) before IEND: decoders skip
 * it, so the file reaches a realistic size (a real 4K PNG is megabytes) without costing a decode. The
 * filler is deterministic and incompressible.
 */
export function padPng(png: Buffer, bytes: number): Buffer {
  const size = Math.min(MAX_PAD_BYTES, Math.max(0, Math.floor(bytes)));
  if (size === 0) return png;
  if (filler.length < size) {
    const rand = mulberry32(0x70616421);
    filler = Buffer.alloc(size);
    for (let i = 0; i + 4 <= size; i += 4) filler.writeUInt32BE(Math.floor(rand() * 0x1_0000_0000), i);
  }
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), chunk('pmPd', filler.subarray(0, size)), png.subarray(iend)]);
}

/** Width and height from a PNG header (used to follow a reference image's aspect ratio). */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.subarray(0, 8).equals(SIGNATURE) || buf.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
