import { thumbnailKey } from '@pixelmill/core';
import { classifyS3Error, type ObjectStore } from '@pixelmill/storage';
import pRetry from 'p-retry';
import { decodePreview, type Preview, previewImage } from './qa/preview.js';

export { THUMBNAIL_MAX_PX } from './qa/preview.js';

/**
 * Writes a small WebP preview of an output next to it, so the console's gallery never downloads
 * originals (a 4K PNG is tens of MB). Made from the output's one decode (qa/preview.ts), which the
 * QA checks share.
 */
export async function putThumbnail(
  objects: ObjectStore,
  preview: Preview,
  outputKey: string,
): Promise<string> {
  const bytes = await previewImage(preview).webp({ quality: 75 }).toBuffer();
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

/** Decodes an image and writes its thumbnail (never enlarged: a small image keeps its own size). */
export async function storeThumbnail(
  objects: ObjectStore,
  image: Buffer,
  outputKey: string,
): Promise<string> {
  return putThumbnail(objects, await decodePreview(image), outputKey);
}
