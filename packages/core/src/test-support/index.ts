/**
 * @module Test fixtures over the shared Redis, for this package's tests and other packages' (as
 * `@pixelmill/core/test-support`): one key prefix per test file, every key under it deleted after the
 * file's tests, and the batch and item specs acceptance would store.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { scanEveryMaster } from '../redis/scan.js';
import type { BatchStore, NewItem } from '../store/batch-store.js';
import type { BatchSpec, ItemSpec } from '../store/records.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  /** `test:<name>:<uuid>`: unique per file, so test files (and parallel runs) never share keys. */
  readonly prefix: string;
  /** Open from the file's first beforeAll until its last afterAll. */
  readonly redis: Redis;
}

/**
 * Deletes every key under `prefix` (SCAN, not KEYS, so a shared Redis is not blocked), on every
 * master of a cluster; one key per command, since keys of one node may sit in different slots.
 */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  for await (const { node, keys } of scanEveryMaster(redis, `${prefix}:*`, 1000)) {
    const pipe = node.pipeline();
    for (const key of keys) pipe.unlink(key);
    await pipe.exec();
  }
}

/**
 * Call at the top of a test file: connects before its tests and, after them (after the file's own
 * afterAll hooks), deletes every key under the prefix and disconnects.
 */
export function useTestRedis(name: string, options: RedisOptions = {}): TestRedis {
  const prefix = `test:${name}:${randomUUID()}`;
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = new Redis(REDIS_URL, options);
  });
  afterAll(async () => {
    if (redis === undefined) return;
    await deleteKeysUnder(redis, prefix);
    await redis.quit();
  });
  return {
    prefix,
    get redis(): Redis {
      if (redis === undefined) throw new Error('useTestRedis: the connection opens in beforeAll');
      return redis;
    },
  };
}

/** A batch spec as acceptance stores it: no webhook, PNG at the bucket root, normal priority. */
export function testBatchSpec(overrides: Partial<BatchSpec> = {}): BatchSpec {
  return {
    model: 'sim-image',
    created_at: new Date().toISOString(),
    webhook: null,
    output: { prefix: '', format: 'png' },
    priority: 'normal',
    metadata: {},
    estimated_micros: 0,
    images_requested: 0,
    ...overrides,
  };
}

/** One 1K square image of `model` for `customId`. */
export function testItemSpec(customId: string, overrides: Partial<ItemSpec> = {}): ItemSpec {
  return {
    custom_id: customId,
    model: 'sim-image',
    prompt: 'p',
    size: '1K',
    aspect_ratio: '1:1',
    n: 1,
    reference_images: [],
    metadata: {},
    ...overrides,
  };
}

/**
 * Writes items as acceptance does (insertChunk) and gives each its record, as the feeder does before
 * their jobs run: for tests that start, end or review items without running the feeder.
 */
export async function insertFedItems(
  store: BatchStore,
  batchId: string,
  tenantId: string,
  items: (NewItem & { where: string })[],
): Promise<void> {
  for (let i = 0; i < items.length; i += 1000) {
    const chunk = items.slice(i, i + 1000);
    await store.insertChunk(batchId, tenantId, chunk, true);
    await store.materializeItems(
      batchId,
      chunk.map((item) => item.id),
    );
  }
}
