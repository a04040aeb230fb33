import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isProviderError } from '@pixelmill/core';
import type { ObjectStore } from '@pixelmill/storage';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReferenceImages } from './reference-images.js';

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
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const bucket = (objects: Record<string, Buffer>): ObjectStore =>
  ({
    get: async (key: string) => {
      const found = objects[key];
      if (!found) throw new Error('NoSuchKey');
      return found;
    },
  }) as unknown as ObjectStore;

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
    const got = await loadReferenceImages([`${base}/ok.png`, 'refs/a.png'], bucket({ 'refs/a.png': png }), {
      allowPrivate: true,
    });
    expect(got.map((r) => r.mimeType)).toEqual(['image/png', 'image/png']);
  });

  it('refuses private and loopback addresses with the SSRF guard of webhooks', async () => {
    const before = hits.length;
    for (const url of [`${base}/ok.png`, 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x.png']) {
      const f = await failure(loadReferenceImages([url], bucket({}), { allowPrivate: false }));
      expect(f).toMatchObject({ code: 'reference_image_error', retryable: false });
      expect(f.message).toMatch(/refused/);
    }
    expect(hits.length).toBe(before);
  });

  it('never follows redirects (a public URL cannot bounce to a private one)', async () => {
    const f = await failure(loadReferenceImages([`${base}/redirect`], bucket({}), { allowPrivate: true }));
    expect(f.code).toBe('reference_image_error');
    expect(hits.filter((h) => h === '/latest')).toEqual([]);
  });

  it('stops reading past 20 MB', async () => {
    const f = await failure(loadReferenceImages([`${base}/huge.png`], bucket({}), { allowPrivate: true }));
    expect(f).toMatchObject({ code: 'reference_image_error', retryable: false });
    expect(f.message).toMatch(/larger than 20971520 bytes/);
  });

  it('refuses bytes that are not an image, and a missing bucket key, without retries', async () => {
    const text = await failure(loadReferenceImages([`${base}/text`], bucket({}), { allowPrivate: true }));
    expect(text).toMatchObject({ retryable: false });
    expect(text.message).toMatch(/not a PNG, JPEG, WebP or GIF/);
    const missing = await failure(loadReferenceImages(['refs/none.png'], bucket({}), { allowPrivate: true }));
    expect(missing).toMatchObject({ retryable: false });
  });

  it('treats a 5xx from the image host as retryable', async () => {
    const f = await failure(loadReferenceImages([`${base}/boom`], bucket({}), { allowPrivate: true }));
    expect(f).toMatchObject({ code: 'reference_image_error', retryable: true });
  });
});
