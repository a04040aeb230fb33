import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, test } from 'vitest';
import { itemIdFor, newBatchId } from '../ids.js';
import { testBatchSpec, testItemSpec, useTestRedis } from '../test-support/index.js';
import { BatchStore } from './batch-store.js';
import { DedupeStore, type ReusableGeneration } from './dedupe-store.js';

const db = useTestRedis('registry');
const { prefix } = db;
let redis: Redis;
let store: BatchStore;

const spec = testBatchSpec({ estimated_micros: 1000, images_requested: 1 });

async function listed(): Promise<string[]> {
  const ids: string[] = [];
  for await (const chunk of store.listedBatchIds(2)) ids.push(...chunk);
  return ids.sort();
}

async function publish(tenantId: string): Promise<string> {
  const id = newBatchId();
  await store.insertBatch({ id, tenantId, spec });
  await store.publishBatch(id, tenantId);
  return id;
}

beforeAll(() => {
  redis = db.redis;
  store = new BatchStore(redis, prefix);
});

describe('the store keeps its own keys', () => {
  test('every listed batch of every tenant, from the tenant set; discarded ones drop out', async () => {
    const a = [await publish('acme'), await publish('acme'), await publish('acme')];
    const g = await publish('globex');
    const invisible = newBatchId();
    await store.insertBatch({ id: invisible, tenantId: 'initech', spec });
    expect(await listed()).toEqual([...a, g].sort());
    await store.discardBatch(a[0]!, 'acme');
    expect(await listed()).toEqual([a[1]!, a[2]!, g].sort());
  });

  test('tenants listed before the tenant set existed are registered once at start-up', async () => {
    const old = await publish('umbrella');
    await redis.srem(store.keys.tenants(), 'umbrella');
    expect(await listed()).not.toContain(old);
    await store.registerListedTenants();
    expect(await listed()).toContain(old);
  });

  test('endIngest forgets the custom_ids the ingest checked', async () => {
    const id = newBatchId();
    await store.insertBatch({ id, tenantId: 'acme', spec });
    const item = (n: number) => ({
      id: itemIdFor(id, `c${n}`),
      where: `line ${n}`,
      spec: testItemSpec('c'),
    });
    expect(await store.insertChunk(id, 'acme', [item(1)], true)).toEqual([]);
    expect(await store.insertChunk(id, 'acme', [item(2)], false)).toEqual([
      { index: 0, firstSeen: 'line 1' },
    ]);
    await store.endIngest(id);
    expect(await redis.exists(store.keys.ingestIds(id))).toBe(0);
  });

  test('a tenant finds only its own earlier generation of a request', async () => {
    const dedupe = new DedupeStore(redis, prefix);
    const generation: ReusableGeneration = {
      batch_id: 'b',
      item_id: 'i',
      custom_id: 'c',
      outputs: [
        {
          index: 0,
          key: 'acme/b/c/0.png',
          content_type: 'image/png',
          width: 1,
          height: 1,
          bytes: 3,
          sha256: 'ab',
        },
      ],
    };
    expect(await dedupe.find('acme', 'f1')).toBeNull();
    await dedupe.remember('acme', 'f1', generation);
    expect(await dedupe.find('acme', 'f1')).toEqual(generation);
    expect(await dedupe.find('globex', 'f1')).toBeNull();
    expect(await redis.ttl(store.keys.dedupe('acme', 'f1'))).toBeGreaterThan(29 * 24 * 3600);
  });
});
