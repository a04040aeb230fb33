import sharp from 'sharp';

/** Longest side of a thumbnail in pixels: sharp enough for a gallery grid, a few kB each. */
export const THUMBNAIL_MAX_PX = 256;

/** An output decoded once and reduced to thumbnail size: raw pixels, channels interleaved. */
export interface Preview {
  pixels: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * The one full decode of an output: EXIF orientation applied, shrunk to fit THUMBNAIL_MAX_PX (never
 * enlarged; sharp shrinks JPEG and WebP while decoding). The thumbnail and every pixel check work on
 * this small image, so the checks cost a fraction of the decode.
 */
export async function decodePreview(image: Buffer): Promise<Preview> {
  const { data, info } = await sharp(image)
    .rotate()
    .resize({ width: THUMBNAIL_MAX_PX, height: THUMBNAIL_MAX_PX, fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { pixels: data, width: info.width, height: info.height, channels: info.channels };
}

/** sharp's view of a preview's raw pixels (no decode). */
export const previewImage = (p: Preview) =>
  sharp(p.pixels, { raw: { width: p.width, height: p.height, channels: p.channels } });

/**
 * The largest standard deviation (0-255, population) of the colour channels, alpha left out: the
 * per-channel `stdev` of sharp's stats(), computed in one pass over the preview instead (stats()
 * cost about 13 ms of CPU per call here, more than the thumbnail's encode; this pass well under 1 ms).
 */
export function maxColourStdev(p: Preview): number {
  const colours = p.channels === 2 || p.channels === 4 ? p.channels - 1 : p.channels;
  const sum = new Float64Array(colours);
  const sumSq = new Float64Array(colours);
  const px = p.pixels;
  for (let i = 0; i < px.length; i += p.channels) {
    for (let c = 0; c < colours; c++) {
      const v = px[i + c] as number;
      sum[c] = (sum[c] as number) + v;
      sumSq[c] = (sumSq[c] as number) + v * v;
    }
  }
  const n = p.width * p.height;
  let max = 0;
  for (let c = 0; c < colours; c++) {
    const mean = (sum[c] as number) / n;
    max = Math.max(max, Math.sqrt(Math.max(0, (sumSq[c] as number) / n - mean * mean)));
  }
  return max;
}
