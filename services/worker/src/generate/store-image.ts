import type { ItemOutput, OutputFormat } from '@pixelmill/core';
import type { GeneratedImage } from '@pixelmill/providers';
import { type ObjectStore, outputKey } from '@pixelmill/storage';
import pRetry from 'p-retry';
import sharp from 'sharp';

const mimeOf: Record<OutputFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const extOf: Record<OutputFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

/**
 * Converts an image to the batch's output format when the provider returned another one, measures it
 * from the decoded bytes (providers sometimes ignore the requested size), and uploads it with retries.
 */
export async function storeImage(
  objects: ObjectStore,
  image: GeneratedImage,
  where: { prefix: string; batchId: string; customId: string; index: number; format: OutputFormat },
): Promise<ItemOutput> {
  let bytes = image.bytes;
  const meta = await sharp(bytes).metadata();
  const wanted = where.format;
  if (meta.format !== wanted && !(wanted === 'jpeg' && meta.format === 'jpeg')) {
    bytes = await sharp(bytes).toFormat(wanted).toBuffer();
  }
  const key = outputKey({
    prefix: where.prefix,
    batchId: where.batchId,
    customId: where.customId,
    index: where.index,
    ext: extOf[wanted],
  });
  // S3 hiccups are normal: retry the upload (never the generation) with exponential backoff.
  const put = await pRetry(() => objects.put(key, bytes, mimeOf[wanted]), {
    retries: 5,
    minTimeout: 200,
    maxTimeout: 5_000,
    randomize: true,
  });
  return {
    index: where.index,
    key,
    content_type: mimeOf[wanted],
    width: meta.width ?? 0,
    height: meta.height ?? 0,
    bytes: put.bytes,
    sha256: put.sha256,
  };
}
