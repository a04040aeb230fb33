import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type LocalS3, localS3Credentials, startLocalS3 } from '../local-s3.js';
import { createS3Store, type S3Store } from '../s3-store.js';

export interface TestBucket {
  readonly bucket: string;
  /** The folder s3rver keeps its files in (`<directory>/s3/<bucket>/...`). */
  readonly directory: string;
  readonly s3: LocalS3;
  readonly objects: S3Store;
}

/**
 * Call at the top of a test file: an embedded S3 server (s3rver) with `bucket` in a temporary folder
 * and an S3Store on it, from before the file's tests until after them (folder removed).
 */
export function useTestBucket(bucket: string): TestBucket {
  let state: { directory: string; s3: LocalS3; objects: S3Store } | undefined;
  let directory: string | undefined;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), `${bucket}-`));
    const s3 = await startLocalS3({ directory: join(directory, 's3'), bucket });
    const objects = createS3Store({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      bucket,
      forcePathStyle: true,
      credentials: localS3Credentials,
    });
    state = { directory, s3, objects };
  });
  afterAll(async () => {
    state?.objects.destroy();
    await state?.s3.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });
  const get = (): NonNullable<typeof state> => {
    if (state === undefined) throw new Error('useTestBucket: the bucket starts in beforeAll');
    return state;
  };
  return {
    bucket,
    get directory() {
      return get().directory;
    },
    get s3() {
      return get().s3;
    },
    get objects() {
      return get().objects;
    },
  };
}
