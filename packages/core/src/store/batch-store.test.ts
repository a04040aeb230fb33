import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { itemIdFor, newBatchId } from '../ids.js';
import { BatchStore } from './batch-store.js';
import type { BatchSpec } from './records.js';

const prefix = `test:core:${randomUUID()}`;
let redis: Redis;
let store: BatchStore;

const spec: BatchSpec = {
  model: 'sim-image',
  created_at: new Date().toISOString(),
  webhook: null,
  output: { prefix: '', format: 'png' },
  priority: 'normal',
  metadata: {},
  estimated_micros: 1000,
  images_requested: 3,
};

async function makeBatch(tenant: string, n: number): Promise<{ id: string; itemIds: string[] }> {
  const id = newBatchId();
  await store.insertBatch({ id, tenantId: tenant, spec, total: n });
  const items = Array.from({ length: n }, (_, i) => ({
    id: itemIdFor(id, `c${i}`),
    spec: {
      custom_id: `c${i}`,
      model: 'sim-image',
      prompt: `p${i}`,
      size: '1K' as const,
      aspect_ratio: '1:1',
      n: 1,
      reference_images: [],
      metadata: {},
    },
  }));
  await store.insertItems(id, tenant, items);
  await store.publishBatch(id, tenant);
  return { id, itemIds: items.map((i) => i.id) };
}

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  store = new BatchStore(redis, prefix);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('BatchStore', () => {
  test('an invisible batch is not readable; a published one is, by its tenant only', async () => {
    const id = newBatchId();
    await store.insertBatch({ id, tenantId: 'acme', spec, total: 1 });
    expect(await store.getBatch('acme', id)).toBeNull();
    await store.publishBatch(id, 'acme');
    expect((await store.getBatch('acme', id))?.status).toBe('queued');
    expect(await store.getBatch('globex', id)).toBeNull();
    await store.discardBatch(id, 'acme');
    expect(await redis.exists(store.keys.batch(id))).toBe(0);
  });

  test('items end exactly once and exactly one caller is told it ended the batch', async () => {
    const { id, itemIds } = await makeBatch('acme', 20);
    for (const itemId of itemIds) expect((await store.startItem(id, itemId)).state).toBe('started');
    // Every item is ended twice, concurrently, on separate connections (a duplicate job delivery).
    const other = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const otherStore = new BatchStore(other, prefix);
    const results = await Promise.all(
      itemIds.flatMap((itemId) =>
        [store, otherStore].map((s) =>
          s.endItem(id, itemId, { status: 'succeeded', costMicros: 134_000, images: 1 }),
        ),
      ),
    );
    await other.quit();
    expect(results.filter((r) => r.ended)).toHaveLength(20);
    expect(results.filter((r) => r.last)).toHaveLength(1);
    const batch = await store.getBatch('acme', id);
    expect(batch?.counts).toEqual({
      total: 20,
      queued: 0,
      running: 0,
      succeeded: 20,
      failed: 0,
      cancelled: 0,
    });
    expect(batch?.cost.actual_usd).toBeCloseTo(20 * 0.134, 6);
    expect(batch?.images.generated).toBe(20);
  });

  test('requeue moves a running item back; attempts count starts', async () => {
    const { id, itemIds } = await makeBatch('acme', 1);
    const itemId = itemIds[0] as string;
    expect(await store.startItem(id, itemId)).toEqual({ state: 'started', attempts: 1 });
    expect(
      await store.requeueItem(id, itemId, { code: 'provider_error', message: '503', retryable: true }),
    ).toBe(true);
    expect((await store.getBatch('acme', id))?.counts.queued).toBe(1);
    expect(await store.startItem(id, itemId)).toEqual({ state: 'started', attempts: 2 });
    await store.endItem(id, itemId, {
      status: 'failed',
      error: { code: 'content_blocked', message: 'blocked', retryable: false },
      costMicros: 0,
      images: 0,
    });
    expect(await store.startItem(id, itemId)).toEqual({ state: 'ended', attempts: 2 });
    const item = await store.getItem(itemId);
    expect(item?.status).toBe('failed');
    expect(item?.error?.code).toBe('content_blocked');
  });

  test('lists batches newest first and items in order with stable cursors', async () => {
    const tenant = `t-${randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await makeBatch(tenant, 1)).id);
    const first = await store.listBatches(tenant, { limit: 3 });
    expect(first.data.map((b) => b.id)).toEqual(ids.slice(2).reverse());
    const second = await store.listBatches(tenant, { limit: 3, cursor: first.next_cursor ?? '' });
    expect(second.data.map((b) => b.id)).toEqual(ids.slice(0, 2).reverse());
    expect(second.next_cursor).toBeNull();

    const { id, itemIds } = await makeBatch(tenant, 7);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listItems(id, { limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.data.map((i) => i.id));
      // Items change state between pages: the order and the set must not change.
      if (page.data[0]) await store.startItem(id, page.data[0].id);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(itemIds);
    const running = await store.listItems(id, { limit: 10, status: 'running' });
    expect(running.data).toHaveLength(3);
  });
});
