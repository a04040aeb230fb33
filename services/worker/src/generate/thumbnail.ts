import { thumbnailKey } from '@pixelmill/core';
import { classifyS3Error, type ObjectStore } from '@pixelmill/storage';
import pRetry from 'p-retry';
import sharp from 'sharp';

/** Longest side of a thumbnail in pixels: sharp enough for a gallery grid, a few kB each. */
export const THUMBNAIL_MAX_PX = 256;

/**
 * Writes a small WebP preview of an output next to it, so the console's gallery never downloads
 * originals (a 4K PNG is tens of MB). Never enlarges: a small image keeps its own size.
 */
export async function storeThumbnail(
  objects: ObjectStore,
  image: Buffer,
  outputKey: string,
): Promise<string> {
  const bytes = await sharp(image)
    .rotate() // honour EXIF orientation before the EXIF is dropped
    .resize({ width: THUMBNAIL_MAX_PX, height: THUMBNAIL_MAX_PX, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 75 })
    .toBuffer();
  const key = thumbnailKey(outputKey);
  await pRetry(() => objects.put(key, bytes, 'image/webp'), {
    retries: 5,
    // A key S3 refuses stays refused: no point asking again.
    shouldRetry: ({ error }) => classifyS3Error(error) !== 'refused',
    minTimeout: 200,
    maxTimeout: 5_000,
    randomize: true,
  });
  return key;
}
