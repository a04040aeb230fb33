import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyS3Error } from './s3-error-class.js';
import type { S3Store } from './s3-store.js';
import { useTestBucket } from './test-support/bucket.js';

const BUCKET = 'pixelmill-local-s3-test';

describe('the embedded S3 server refuses keys it cannot store, and keeps running', () => {
  const bucket = useTestBucket(BUCKET);
  let dir: string;
  let store: S3Store;

  beforeAll(() => {
    dir = bucket.directory;
    store = bucket.objects;
  });

  it('answers a last segment too long for its file names with KeyTooLongError, a refusal of that key', async () => {
    const err = await store.put(`t/${'a'.repeat(240)}.png`, Buffer.from('x'), 'image/png').catch((e) => e);
    expect(err).toMatchObject({ name: 'KeyTooLongError', $metadata: { httpStatusCode: 400 } });
    expect(classifyS3Error(err)).toBe('refused');
    // Still up: an ordinary key round-trips.
    const put = await store.put('t/ok.png', Buffer.from('fine'), 'image/png');
    expect((await store.get('t/ok.png')).toString()).toBe('fine');
    expect(put.bytes).toBe(4);
  });

  it('takes the longest last segment its file names allow', async () => {
    await store.put(`t/${'b'.repeat(233)}`, Buffer.from('y'), 'image/png');
    expect((await store.get(`t/${'b'.repeat(233)}`)).toString()).toBe('y');
  });

  it('never follows a .. segment out of its folder', async () => {
    const err = await store.put('t/../../escaped.png', Buffer.from('x'), 'image/png').catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(classifyS3Error(err)).toBe('refused');
    expect(existsSync(join(dir, 'escaped.png'))).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['s3']);
  });
});
