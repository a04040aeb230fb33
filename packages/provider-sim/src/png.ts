import { crc32, deflateSync, constants as zc } from 'node:zlib';
import { fnv1a } from './rng.js';

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

/**
 * A real RGB PNG of exactly width×height. Colour comes from seedText; `variant` (the
 * simulator's image counter) changes a few pixels so two generations of one prompt differ.
 *
 * Built with zlib directly rather than pngjs: pngjs needs ~1 s for 4096² while this takes
 * ~0.2 s. Every row is the same gradient, so rows after the first use the PNG "Up" filter
 * and are all zero bytes, which deflate (RLE strategy) compresses to almost nothing.
 */
export function makePng(width: number, height: number, seedText: string, variant = 0): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`makePng: bad size ${width}x${height}`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) throw new RangeError(`makePng: side above ${MAX_SIDE}`);
  const h = fnv1a(seedText);
  const [r, g, b] = [h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff];
  const stride = 1 + width * 3;

  // Base row: the seed colour with a horizontal gradient on red so the image is not flat.
  const base = Buffer.alloc(width * 3);
  for (let x = 0; x < width; x++) {
    base[x * 3] = (r + Math.floor((x * 96) / width)) & 0xff;
    base[x * 3 + 1] = g;
    base[x * 3 + 2] = b;
  }
  // First row = base row with a marker: the variant and seed hash in the first pixels.
  const first = Buffer.from(base);
  const marker = Buffer.alloc(8);
  marker.writeUInt32BE(variant >>> 0, 0);
  marker.writeUInt32BE(h, 4);
  marker.copy(first, 0, 0, Math.min(8, first.length));

  const raw = Buffer.alloc(stride * height); // zero-filled: "Up" rows equal to the row above
  raw[0] = 0; // filter None
  first.copy(raw, 1);
  for (let y = 1; y < height; y++) raw[y * stride] = 2; // filter Up
  if (height > 1) {
    // Row 1 is the unmarked base row: store its difference from the marked first row.
    for (let i = 0; i < Math.min(8, base.length); i++) {
      raw[stride + 1 + i] = ((base[i] ?? 0) - (first[i] ?? 0)) & 0xff;
    }
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
