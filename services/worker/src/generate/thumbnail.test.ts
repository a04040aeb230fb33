import type { S3Store } from '@pixelmill/storage';
import { useTestBucket } from '@pixelmill/storage/test-support';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { storeThumbnail, THUMBNAIL_MAX_PX } from './thumbnail.js';

const BUCKET = 'pixelmill-thumb-test';

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .png()
    .toBuffer();

describe('storeThumbnail against s3rver', () => {
  const bucket = useTestBucket(BUCKET);
  let objects: S3Store;

  beforeAll(() => {
    objects = bucket.objects;
  });

  it('stores a WebP whose long side is at most 256 px and keeps the aspect ratio', async () => {
    const key = await storeThumbnail(objects, await png(2048, 1152), 'b/batch_1/wide/0.png');
    expect(key).toBe('b/batch_1/wide/0.thumb.webp');
    expect((await objects.head(key))?.contentType).toBe('image/webp');
    const meta = await sharp(await objects.get(key)).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.width, meta.height]).toEqual([THUMBNAIL_MAX_PX, 144]);

    const tall = await sharp(
      await objects.get(await storeThumbnail(objects, await png(768, 1024), 't/0.jpg')),
    ).metadata();
    expect([tall.width, tall.height]).toEqual([192, THUMBNAIL_MAX_PX]);
  });

  it('never enlarges a small image', async () => {
    const key = await storeThumbnail(objects, await png(120, 60), 'small/0.png');
    const meta = await sharp(await objects.get(key)).metadata();
    expect([meta.width, meta.height]).toEqual([120, 60]);
  });
});
