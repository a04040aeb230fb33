import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from './hash.js';
import { type LocalS3, localS3Credentials, startLocalS3 } from './local-s3.js';
import { createS3Store, type S3Store } from './s3-store.js';
import { pngishBuffer } from './test-support/png.js';

const BUCKET = 'pixelmill-test';

function storeFor(s3: LocalS3, bucket = BUCKET): S3Store {
  return createS3Store({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    bucket,
    forcePathStyle: true,
    credentials: localS3Credentials,
  });
}

describe('createS3Store against s3rver', () => {
  let dir: string;
  let s3: LocalS3;
  let store: S3Store;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixelmill-storage-'));
    s3 = await startLocalS3({ directory: dir, bucket: BUCKET });
    store = storeFor(s3);
  });

  afterAll(async () => {
    store?.destroy();
    await s3?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a 2 MB PNG with its sha256 in metadata', async () => {
    const png = pngishBuffer(2 * 1024 * 1024);
    const put = await store.put('batch_1/sku-1/0.png', png, 'image/png');
    expect(put).toEqual({ key: 'batch_1/sku-1/0.png', bytes: png.length, sha256: sha256Hex(png) });

    const head = await store.head('batch_1/sku-1/0.png');
    expect(head).toEqual({ bytes: png.length, contentType: 'image/png', sha256: put.sha256 });

    const got = await store.get('batch_1/sku-1/0.png');
    expect(got.length).toBe(png.length);
    expect(sha256Hex(got)).toBe(put.sha256);
  });

  it('serves identical bytes through a presigned GET', async () => {
    const png = pngishBuffer(300_000);
    const { sha256 } = await store.put('presign/0.png', png, 'image/png');
    const url = await store.presignGet('presign/0.png', 300);
    expect(url).toContain('X-Amz-Signature=');

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(sha256Hex(Buffer.from(await res.arrayBuffer()))).toBe(sha256);
  });

  it('rejects presign lifetimes SigV4 cannot sign', async () => {
    await expect(store.presignGet('x', 604_801)).rejects.toThrow(RangeError);
  });

  it('answers null for a missing key', async () => {
    expect(await store.head('does/not/exist.png')).toBeNull();
  });

  it('deletes objects', async () => {
    await store.put('to-delete.txt', Buffer.from('bye'), 'text/plain');
    await store.delete('to-delete.txt');
    expect(await store.head('to-delete.txt')).toBeNull();
  });

  it('streams a multipart upload and round-trips it by hash', async () => {
    // 6 MB in 64 KB chunks: more than one 5 MB part, so lib-storage takes the multipart path.
    const chunks = Array.from({ length: 96 }, () => pngishBuffer(64 * 1024));
    const whole = Buffer.concat(chunks);
    const put = await store.putStream(
      'batch_1/manifest.jsonl',
      Readable.from(chunks),
      'application/x-ndjson',
    );
    expect(put).toEqual({ key: 'batch_1/manifest.jsonl', bytes: whole.length, sha256: sha256Hex(whole) });

    const got = await store.get('batch_1/manifest.jsonl');
    expect(sha256Hex(got)).toBe(put.sha256);
    expect((await store.head('batch_1/manifest.jsonl'))?.contentType).toBe('application/x-ndjson');
  });

  it('accepts a Readable of strings, as Readable.from(async generator) gives for JSONL', async () => {
    const lines = Array.from(
      { length: 1000 },
      (_, i) => `${JSON.stringify({ custom_id: `sku-${i}`, n: i })}\n`,
    );
    const put = await store.putStream('batch_2/manifest.jsonl', Readable.from(lines), 'application/x-ndjson');
    const whole = Buffer.from(lines.join(''));
    expect(put).toEqual({ key: 'batch_2/manifest.jsonl', bytes: whole.length, sha256: sha256Hex(whole) });
    expect((await store.get('batch_2/manifest.jsonl')).toString()).toBe(lines.join(''));
  });

  it('fails putStream when the source stream errors', async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error('source broke'));
      },
    });
    await expect(store.putStream('broken.bin', source, 'application/octet-stream')).rejects.toThrow();
  });

  it('creates a missing bucket once and is idempotent', async () => {
    const other = storeFor(s3, 'pixelmill-created');
    try {
      await expect(other.ping()).rejects.toThrow(/pixelmill-created/);
      await other.ensureBucket();
      await other.ensureBucket();
      await other.ping();
    } finally {
      other.destroy();
    }
  });
});

describe('ping', () => {
  it('fails with the bucket and endpoint named once the server is closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixelmill-storage-'));
    const s3 = await startLocalS3({ directory: dir, bucket: BUCKET });
    const store = storeFor(s3);
    try {
      await store.ping();
      await s3.close();
      await expect(store.ping()).rejects.toThrow(
        new RegExp(`S3 bucket "${BUCKET}" is not reachable at ${s3.endpoint}: .*ECONNREFUSED`),
      );
    } finally {
      store.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
