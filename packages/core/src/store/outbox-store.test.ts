import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { itemIdFor, newBatchId } from '../ids.js';
import { insertFedItems, testBatchSpec, testItemSpec, useTestRedis } from '../test-support/index.js';
import { BatchStore } from './batch-store.js';
import { type OutboxEntry, OutboxStore } from './outbox-store.js';

const db = useTestRedis('outbox');
const { prefix } = db;
let redis: Redis;
let reader: Redis;
let store: BatchStore;
let outbox: OutboxStore;

const spec = testBatchSpec({ estimated_micros: 1000, images_requested: 3 });

async function makeBatch(n: number): Promise<{ id: string; itemIds: string[] }> {
  const id = newBatchId();
  await store.insertBatch({ id, tenantId: 'acme', spec });
  const items = Array.from({ length: n }, (_, i) => ({
    id: itemIdFor(id, `c${i}`),
    spec: testItemSpec(`c${i}`, { prompt: `p${i}` }),
  }));
  await insertFedItems(
    store,
    id,
    'acme',
    items.map((i) => ({ ...i, where: i.spec.custom_id })),
  );
  await store.publishBatch(id, 'acme');
  return { id, itemIds: items.map((i) => i.id) };
}

/** Everything waiting, read and removed by one consumer. */
async function drain(): Promise<OutboxEntry[]> {
  const out: OutboxEntry[] = [];
  for (;;) {
    const got = await outbox.read('t', 100, 1);
    if (got.length === 0) return out;
    for (const e of got) {
      if ('kind' in e) out.push(e);
      await outbox.remove(e.id);
    }
  }
}

beforeAll(async () => {
  redis = db.redis;
  reader = redis.duplicate();
  store = new BatchStore(redis, prefix);
  outbox = new OutboxStore(redis, prefix);
  await outbox.ensureGroup();
  await outbox.ensureGroup();
});

afterAll(async () => {
  await reader.quit();
});

describe('outbox', () => {
  test('every item end is recorded by the script that ends it; a repeated end records nothing', async () => {
    const { id, itemIds } = await makeBatch(3);
    const [a, b, c] = itemIds as [string, string, string];
    await store.endItem(id, a, { status: 'succeeded', costMicros: 1, images: 1 });
    await store.endItem(id, a, { status: 'failed', costMicros: 0, images: 0 });
    await store.endItem(id, b, { status: 'failed', costMicros: 0, images: 0 });
    await store.endItem(id, c, { status: 'succeeded', costMicros: 1, images: 1 });
    const entries = await drain();
    const items = await store.getItems(itemIds);
    expect(entries).toEqual([
      {
        id: expect.any(String),
        kind: 'item',
        batchId: id,
        itemId: a,
        status: 'succeeded',
        at: items[0]?.finished_at,
        last: false,
      },
      {
        id: expect.any(String),
        kind: 'item',
        batchId: id,
        itemId: b,
        status: 'failed',
        at: items[1]?.finished_at,
        last: false,
      },
      {
        id: expect.any(String),
        kind: 'item',
        batchId: id,
        itemId: c,
        status: 'succeeded',
        at: items[2]?.finished_at,
        last: true,
      },
    ]);
    expect(await outbox.length()).toBe(0);
  });

  test('closing and gating record only the end that ends the batch (its finalize)', async () => {
    const { id, itemIds } = await makeBatch(3);
    await store.closeItems(id, itemIds.slice(0, 2), 'expired');
    await store.requestCancel(id);
    expect((await store.gateItem(id, itemIds[2] as string)).state).toBe('cancelled');
    expect(await drain()).toEqual([
      expect.objectContaining({
        kind: 'item',
        batchId: id,
        itemId: itemIds[2],
        status: 'cancelled',
        last: true,
      }),
    ]);
  });

  test('completing a round records its batch event once, even when finalize runs again', async () => {
    const { id, itemIds } = await makeBatch(1);
    await store.endItem(id, itemIds[0] as string, { status: 'succeeded', costMicros: 1, images: 1 });
    await drain();
    expect(await store.completeBatch(id, 'm.jsonl', 'r.csv')).toBe(true);
    expect(await store.completeBatch(id, 'm.jsonl', 'r.csv')).toBe(true);
    const completedAt = (await store.getBatchInternal(id))?.batch.completed_at;
    expect(await drain()).toEqual([
      { id: expect.any(String), kind: 'batch', batchId: id, round: 0, at: completedAt },
    ]);
    // A retry round completes again with an event of its own.
    await store.reopenBatch(id);
    await store.retryItems(id, itemIds, ['succeeded']);
    await store.endItem(id, itemIds[0] as string, { status: 'succeeded', costMicros: 1, images: 1 });
    await store.completeBatch(id, 'm.jsonl', 'r.csv');
    expect((await drain()).map((e) => (e.kind === 'batch' ? `batch:${e.round}` : e.kind))).toEqual([
      'item',
      'batch:1',
    ]);
  });

  test('an entry a consumer read but never removed is claimed by another once idle, not before', async () => {
    const { id, itemIds } = await makeBatch(1);
    await store.endItem(id, itemIds[0] as string, { status: 'succeeded', costMicros: 1, images: 1 });
    const blocking = new OutboxStore(reader, prefix);
    const [held] = await blocking.read('dead', 10, 100);
    expect(held).toMatchObject({ kind: 'item', itemId: itemIds[0] });
    expect(await outbox.read('alive', 10, 1)).toEqual([]);
    expect(await outbox.claimIdle('alive', 60_000, 10)).toEqual([]);
    const deadline = Date.now() + 5000;
    let claimed: unknown[] = [];
    while (claimed.length === 0 && Date.now() < deadline) claimed = await outbox.claimIdle('alive', 50, 10);
    expect(claimed).toEqual([held]);
    await outbox.remove((held as OutboxEntry).id);
    expect(await outbox.length()).toBe(0);
  });
});
