import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProviderError, tenantRoot } from '@pixelmill/core';
import type { LookupAll } from '@pixelmill/net-guard';
import {
  createS3Store,
  type LocalS3,
  localS3Credentials,
  type ObjectStore,
  type S3Store,
  startLocalS3,
} from '@pixelmill/storage';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReferenceImages, type ReferenceOptions } from './reference-images.js';

const BUCKET = 'pixelmill-refs-test';
const ACME = tenantRoot('acme');
const BETA = tenantRoot('beta');
let dir: string;
let s3: LocalS3;
let store: S3Store;

let server: Server;
let base: string;
let png: Buffer;
const hits: string[] = [];

beforeAll(async () => {
  png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c33' } })
    .png()
    .toBuffer();
  server = createServer((req, res): void => {
    hits.push(req.url ?? '');
    if (req.url === '/ok.png') {
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      return;
    }
    if (req.url === '/text') {
      res.writeHead(200).end('not an image');
      return;
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest' }).end();
      return;
    }
    if (req.url === '/huge.png') {
      // 21 MB of PNG-looking bytes, streamed: the cap must stop reading, not buffer it all.
      res.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(1024 * 1024, 1);
      png.copy(chunk);
      let sent = 0;
      const pump = (): void => {
        while (sent < 21) {
          sent += 1;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  dir = await mkdtemp(join(tmpdir(), 'pixelmill-refs-'));
  s3 = await startLocalS3({ directory: dir, bucket: BUCKET });
  store = createS3Store({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    bucket: BUCKET,
    forcePathStyle: true,
    credentials: localS3Credentials,
  });
  await store.put(`${ACME}catalog/batch_a/a1/0.png`, png, 'image/png');
  await store.put(`${BETA}refs/b.png`, png, 'image/png');
  await store.put(`${BETA}refs/notes.txt`, Buffer.from('not an image'), 'text/plain');
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  store?.destroy();
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The real bucket, with every GET recorded: a key outside the tenant's root must never be read. */
function counting(): { objects: ObjectStore; gets: string[] } {
  const gets: string[] = [];
  const objects: ObjectStore = {
    ...store,
    get: (key) => {
      gets.push(key);
      return store.get(key);
    },
  };
  return { objects, gets };
}

const bucket = (): ObjectStore => counting().objects;
const asBeta = (allowPrivate: boolean, extra: Partial<ReferenceOptions> = {}): ReferenceOptions => ({
  allowPrivate,
  root: BETA,
  ...extra,
});

async function failure(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isProviderError(err)) throw new Error(`expected a ProviderError, got ${String(err)}`);
  return { code: err.code, retryable: err.retryable, message: err.message };
}

describe('loadReferenceImages', () => {
  it('loads a URL and a bucket key, sniffing the image type', async () => {
    const got = await loadReferenceImages([`${base}/ok.png`, `${BETA}refs/b.png`], bucket(), asBeta(true));
    expect(got.map((r) => r.mimeType)).toEqual(['image/png', 'image/png']);
  });

  it('refuses private and loopback addresses with the SSRF guard of webhooks', async () => {
    const before = hits.length;
    for (const url of [`${base}/ok.png`, 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x.png']) {
      const f = await failure(loadReferenceImages([url], bucket(), asBeta(false)));
      expect(f).toMatchObject({ code: 'reference_image_error', retryable: false });
      expect(f.message).toMatch(/refused/);
    }
    expect(hits.length).toBe(before);
  });

  it('never follows redirects (a public URL cannot bounce to a private one)', async () => {
    const f = await failure(loadReferenceImages([`${base}/redirect`], bucket(), asBeta(true)));
    expect(f.code).toBe('reference_image_error');
    expect(hits.filter((h) => h === '/latest')).toEqual([]);
  });

  it('stops reading past 20 MB', async () => {
    const f = await failure(loadReferenceImages([`${base}/huge.png`], bucket(), asBeta(true)));
    expect(f).toMatchObject({ code: 'reference_image_error', retryable: false });
    expect(f.message).toMatch(/larger than 20971520 bytes/);
  });

  it('refuses bytes that are not an image, and a missing bucket key, without retries', async () => {
    const text = await failure(loadReferenceImages([`${base}/text`], bucket(), asBeta(true)));
    expect(text).toMatchObject({ retryable: false });
    expect(text.message).toMatch(/not a PNG, JPEG, WebP or GIF/);
    const missing = await failure(loadReferenceImages([`${BETA}refs/none.png`], bucket(), asBeta(true)));
    expect(missing).toMatchObject({ retryable: false });
    const notImage = await failure(loadReferenceImages([`${BETA}refs/notes.txt`], bucket(), asBeta(true)));
    expect(notImage.message).toBe(`Reference image ${BETA}refs/notes.txt is not a PNG, JPEG, WebP or GIF`);
  });

  it("answers a key outside the tenant's root exactly like a missing key, without reading it", async () => {
    const { objects, gets } = counting();
    const answer = async (ref: string) => {
      const f = await failure(loadReferenceImages([ref], objects, asBeta(true)));
      return { ...f, message: f.message.replace(ref, '<ref>') };
    };
    const missing = await answer(`${BETA}refs/none.png`);
    expect(missing).toEqual({
      code: 'reference_image_error',
      retryable: false,
      message: "Reference image <ref> was not found in this tenant's objects",
    });
    // Another tenant's object that exists, one that does not, and paths that only look inside.
    for (const ref of [
      `${ACME}catalog/batch_a/a1/0.png`,
      `${ACME}catalog/batch_a/a1/9.png`,
      'catalog/batch_a/a1/0.png',
      `${BETA}../${ACME}catalog/batch_a/a1/0.png`,
      `${BETA}./x/../../${ACME}catalog/batch_a/a1/0.png`,
    ]) {
      expect(await answer(ref)).toEqual(missing);
    }
    expect(gets).toEqual([`${BETA}refs/none.png`]);
    // The owner still reads its own object.
    const own = await loadReferenceImages([`${ACME}catalog/batch_a/a1/0.png`], objects, {
      allowPrivate: true,
      root: ACME,
    });
    expect(own.map((r) => r.mimeType)).toEqual(['image/png']);
  });

  it('fetches a URL from the address the guard checked: one DNS answer, no second lookup', async () => {
    let lookups = 0;
    // Not in real DNS: the image arriving proves the connection used the checked answer.
    const lookup: LookupAll = async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const port = new URL(base).port;
    const got = await loadReferenceImages(
      [`http://refs.pixelmill.invalid:${port}/ok.png`],
      bucket(),
      asBeta(true, { lookup }),
    );
    expect(got.map((r) => r.mimeType)).toEqual(['image/png']);
    expect(lookups).toBe(1);
  });

  it('refuses a name whose DNS answer is private, before connecting', async () => {
    const before = hits.length;
    const lookup: LookupAll = async () => [{ address: '::7f00:1', family: 6 }];
    const f = await failure(
      loadReferenceImages(['http://refs.pixelmill.invalid/ok.png'], bucket(), asBeta(false, { lookup })),
    );
    expect(f).toMatchObject({ code: 'reference_image_error', retryable: false });
    expect(f.message).toContain('::7f00:1 (loopback)');
    expect(hits.length).toBe(before);
  });

  it('treats a 5xx from the image host as retryable', async () => {
    const f = await failure(loadReferenceImages([`${base}/boom`], bucket(), asBeta(true)));
    expect(f).toMatchObject({ code: 'reference_image_error', retryable: true });
  });
});
