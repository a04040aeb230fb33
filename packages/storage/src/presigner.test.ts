import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from './hash.js';
import { type LocalS3, localS3Credentials, startLocalS3 } from './local-s3.js';
import { createPresigner } from './presigner.js';
import { createS3Store } from './s3-store.js';
import { signingContextOf, type UnsignedRequest } from './signing-context.js';

const keys = [
  'catalog/fall/batch_1/sku-1001-front/0.png',
  'a b/c+d/é ü/0.png',
  "x!'()*~/y=z&w?v#u/%20/0.webp",
  'emoji 📷/日本語/0.jpeg',
  'trailing/',
  'single',
];
const signingDate = new Date('2026-11-30T12:34:56Z');
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

describe('createPresigner gives the URL getSignedUrl gives, much faster', () => {
  it.each([
    ['AWS, virtual-hosted', { region: 'eu-west-1' }],
    ['AWS, path style', { region: 'us-east-1', forcePathStyle: true }],
    [
      'a local endpoint, path style',
      { region: 'us-east-1', endpoint: 'http://127.0.0.1:4568', forcePathStyle: true },
    ],
    ['an S3-compatible endpoint with a path', { region: 'auto', endpoint: 'https://s3.example.com/store' }],
    [
      'temporary credentials (a session token in the query)',
      {
        region: 'eu-central-1',
        credentials: { ...credentials, sessionToken: 'FwoGZXIvYXdzEXAMPLE/+token=' },
      },
    ],
  ])('%s', async (_, config) => {
    const client = new S3Client({ credentials, ...config });
    const expected = await Promise.all(
      keys.map((key) =>
        getSignedUrl(client, new GetObjectCommand({ Bucket: 'pixelmill-out', Key: key }), {
          expiresIn: 3600,
          signingDate,
        }),
      ),
    );
    const presigner = createPresigner(client, 'pixelmill-out');
    const sdkPresign = vi.spyOn(S3RequestPresigner.prototype, 'presign');
    try {
      for (const [i, key] of keys.entries())
        expect(await presigner.presignGet(key, 3600, signingDate)).toBe(expected[i]);
      // Every URL but the probe's came from the signing context, none from a fallback.
      expect(sdkPresign).toHaveBeenCalledTimes(1);
    } finally {
      sdkPresign.mockRestore();
      client.destroy();
    }
  });
});

describe('one signing context per second', () => {
  it('the SDK signs once per second and expiry; every other URL of that second is signed from it', async () => {
    const client = new S3Client({ region: 'eu-west-1', credentials });
    const sdkPresign = vi.spyOn(S3RequestPresigner.prototype, 'presign');
    try {
      const presigner = createPresigner(client, 'pixelmill-out');
      for (const key of keys) await presigner.presignGet(key, 3600, signingDate);
      expect(sdkPresign).toHaveBeenCalledTimes(1);
      await presigner.presignGet(keys[0] as string, 600, signingDate);
      await presigner.presignGet(keys[0] as string, 600, new Date(signingDate.getTime() + 999));
      expect(sdkPresign).toHaveBeenCalledTimes(2);
      const nextSecond = new Date(signingDate.getTime() + 1000);
      const url = await presigner.presignGet(keys[0] as string, 600, nextSecond);
      expect(sdkPresign).toHaveBeenCalledTimes(3);
      sdkPresign.mockRestore();
      expect(url).toBe(
        await getSignedUrl(client, new GetObjectCommand({ Bucket: 'pixelmill-out', Key: keys[0] }), {
          expiresIn: 600,
          signingDate: nextSecond,
        }),
      );
    } finally {
      sdkPresign.mockRestore();
      client.destroy();
    }
  });

  it('a context that does not reproduce the SDK signature of its probe is refused', () => {
    const probe: UnsignedRequest = {
      protocol: 'https:',
      hostname: 'pixelmill-out.s3.eu-west-1.amazonaws.com',
      method: 'GET',
      path: '/probe',
      headers: { host: 'pixelmill-out.s3.eu-west-1.amazonaws.com' },
      query: {
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
        'X-Amz-Credential': 'AKIDEXAMPLE/20261130/eu-west-1/s3/aws4_request',
        'X-Amz-Date': '20261130T123456Z',
        'X-Amz-Expires': '3600',
        'X-Amz-SignedHeaders': 'host',
        'X-Amz-Signature': '0'.repeat(64),
        'x-id': 'GetObject',
      },
    };
    expect(signingContextOf(probe, credentials)).toBeNull();
  });
});

describe('presigned URLs against s3rver', () => {
  let dir: string;
  let s3: LocalS3;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixelmill-presign-'));
    s3 = await startLocalS3({ directory: dir, bucket: 'presign' });
  });

  afterAll(async () => {
    await s3?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fetch the stored bytes for every key shape', async () => {
    const store = createS3Store({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      bucket: 'presign',
      forcePathStyle: true,
      credentials: localS3Credentials,
    });
    try {
      for (const [i, key] of keys.filter((k) => !k.endsWith('/')).entries()) {
        const body = Buffer.from(`object ${i} ${key}`);
        await store.put(key, body, 'application/octet-stream');
        const res = await fetch(await store.presignGet(key, 300));
        expect(res.status, key).toBe(200);
        expect(sha256Hex(Buffer.from(await res.arrayBuffer()))).toBe(sha256Hex(body));
      }
    } finally {
      store.destroy();
    }
  });
  it('are signed for S3_PUBLIC_ENDPOINT when set, and still fetch from there', async () => {
    // The same s3rver by another host name: the store talks to 127.0.0.1, clients are given localhost.
    const publicEndpoint = s3.endpoint.replace('127.0.0.1', 'localhost');
    expect(publicEndpoint).not.toBe(s3.endpoint);
    const store = createS3Store({
      endpoint: s3.endpoint,
      publicEndpoint,
      region: 'us-east-1',
      bucket: 'presign',
      forcePathStyle: true,
      credentials: localS3Credentials,
    });
    try {
      const key = 'public/sku 1/0.png';
      const body = Buffer.from('public endpoint bytes');
      await store.put(key, body, 'image/png');
      const url = await store.presignGet(key, 300);
      expect(new URL(url).origin).toBe(new URL(publicEndpoint).origin);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(sha256Hex(Buffer.from(await res.arrayBuffer()))).toBe(sha256Hex(body));
    } finally {
      store.destroy();
    }
  });
});
