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

/** The largest standard deviation (0-255) of the colour channels (alpha left out), from sharp's stats(). */
export async function maxColourStdev(p: Preview): Promise<number> {
  const { channels } = await previewImage(p).stats();
  const colour = p.channels === 2 || p.channels === 4 ? channels.slice(0, -1) : channels;
  return Math.max(0, ...colour.map((c) => c.stdev));
}
