import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, test } from 'vitest';
import { itemIdFor, newBatchId } from '../ids.js';
import { insertFedItems, testBatchSpec, testItemSpec, useTestRedis } from '../test-support/index.js';
import { BatchStore } from './batch-store.js';

const db = useTestRedis('core');
const { prefix } = db;
let redis: Redis;
let store: BatchStore;

const spec = testBatchSpec({ estimated_micros: 1000, images_requested: 3 });

const itemSpec = testItemSpec('a');

async function makeBatch(tenant: string, n: number): Promise<{ id: string; itemIds: string[] }> {
  const id = newBatchId();
  await store.insertBatch({ id, tenantId: tenant, spec });
  const items = Array.from({ length: n }, (_, i) => ({
    id: itemIdFor(id, `c${i}`),
    spec: testItemSpec(`c${i}`, { prompt: `p${i}` }),
  }));
  await insertFedItems(
    store,
    id,
    tenant,
    items.map((i) => ({ ...i, where: i.spec.custom_id })),
  );
  await store.publishBatch(id, tenant);
  return { id, itemIds: items.map((i) => i.id) };
}

/** Polls `check` every 5 ms for up to 5 s. */
async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(() => {
  redis = db.redis;
  store = new BatchStore(redis, prefix);
});

describe('BatchStore', () => {
  test('an invisible batch is not readable; a published one is, by its tenant only', async () => {
    const id = newBatchId();
    await store.insertBatch({ id, tenantId: 'acme', spec });
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
      expired: 0,
    });
    expect(batch?.cost.actual_usd).toBeCloseTo(20 * 0.134, 6);
    expect(batch?.images.generated).toBe(20);
  });

  test("an item's lease: another runner is busy until it runs out; its holder renews, requeues or releases it", async () => {
    const { id, itemIds } = await makeBatch('acme', 1);
    const itemId = itemIds[0] as string;
    const a = { runner: 'w1:job', ms: 60_000 };
    const b = { runner: 'w2:job', ms: 60_000 };
    expect(await store.startItem(id, itemId, a)).toMatchObject({ state: 'started', attempts: 1 });
    // The second runner (its job handed over by a lapsed BullMQ lock) waits, at the gate and at start.
    const gate = await store.gateItem(id, itemId, b.runner);
    expect(gate.state).toBe('busy');
    expect(gate.waitMs).toBeGreaterThan(59_000);
    const busy = await store.startItem(id, itemId, b);
    expect(busy).toMatchObject({ state: 'busy', attempts: 1 });
    expect(busy.waitMs).toBeLessThanOrEqual(60_000);
    // The holder itself may start again (a retry of its own job) and renew; the other may not renew.
    expect((await store.gateItem(id, itemId, a.runner)).state).toBe('go');
    expect(await store.renewItemLease(itemId, a)).toBe('held');
    expect(await store.renewItemLease(itemId, b)).toBe('taken');
    // A requeue by a runner that does not hold the lease changes nothing.
    const err = { code: 'provider_error' as const, message: '503', retryable: true };
    expect(await store.requeueItem(id, itemId, err, { refund: false, runner: b.runner })).toBe(false);
    expect((await store.getItem(itemId))?.status).toBe('running');
    // Released (a job handed back at shutdown): anyone may start it at once.
    expect(await store.releaseItemLease(itemId, a.runner)).toBe(true);
    expect(await store.releaseItemLease(itemId, a.runner)).toBe(false);
    expect(await store.startItem(id, itemId, b)).toMatchObject({ state: 'started', attempts: 2 });
    // A lease that ran out (its holder crashed) lets the next runner in.
    expect(await store.renewItemLease(itemId, { runner: b.runner, ms: 1 })).toBe('held');
    await waitUntil(async () => (await store.gateItem(id, itemId, a.runner)).state === 'go');
    expect(await store.startItem(id, itemId, a)).toMatchObject({ state: 'started', attempts: 3 });
    // Requeued by its holder: released with it.
    expect(await store.requeueItem(id, itemId, err, { refund: true, runner: a.runner })).toBe(true);
    expect(await store.startItem(id, itemId, b)).toMatchObject({ state: 'started' });
    await store.endItem(id, itemId, { status: 'succeeded', costMicros: 0, images: 1 });
    expect(await store.renewItemLease(itemId, b)).toBe('gone');
    expect(await redis.hmget(store.keys.item(itemId), 'runner', 'runner_until')).toEqual([null, null]);
  });

  test('requeue moves a running item back; attempts count starts', async () => {
    const { id, itemIds } = await makeBatch('acme', 1);
    const itemId = itemIds[0] as string;
    expect(await store.startItem(id, itemId)).toEqual({ state: 'started', attempts: 1, waitMs: 0 });
    expect(
      await store.requeueItem(id, itemId, { code: 'provider_error', message: '503', retryable: true }),
    ).toBe(true);
    expect((await store.getBatch('acme', id))?.counts.queued).toBe(1);
    expect(await store.startItem(id, itemId)).toEqual({ state: 'started', attempts: 2, waitMs: 0 });
    await store.endItem(id, itemId, {
      status: 'failed',
      error: { code: 'content_blocked', message: 'blocked', retryable: false },
      costMicros: 0,
      images: 0,
    });
    expect(await store.startItem(id, itemId)).toEqual({ state: 'ended', attempts: 2, waitMs: 0 });
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

  test('the gate holds items of an unpublished batch, and ends queued items of a cancelled one', async () => {
    const id = newBatchId();
    await store.insertBatch({ id, tenantId: 'acme', spec });
    const ids = ['a', 'b', 'c'].map((c) => itemIdFor(id, c));
    await insertFedItems(
      store,
      id,
      'acme',
      ids.map((itemId, i) => ({
        id: itemId,
        spec: { ...itemSpec, custom_id: ['a', 'b', 'c'][i] as string },
        where: `item ${i}`,
      })),
    );
    expect(await store.gateItem(id, ids[0] as string)).toEqual({ state: 'pending', last: false, waitMs: 0 });
    await store.publishBatch(id, 'acme');
    expect((await store.getBatch('acme', id))?.counts).toMatchObject({ total: 3, queued: 3 });
    expect(await store.gateItem(id, ids[0] as string)).toEqual({ state: 'go', last: false, waitMs: 0 });
    await store.startItem(id, ids[0] as string);

    expect(await store.requestCancel(id)).toBe(true);
    expect((await store.getBatch('acme', id))?.status).toBe('cancelling');
    const closed = await store.closeItems(id, [ids[1] as string], 'cancelled');
    expect(closed).toEqual([{ itemId: ids[1], closed: true, last: false, retries: 0 }]);
    // The running item is not touched by the gate; the queued one ends there.
    expect(await store.gateItem(id, ids[0] as string)).toEqual({ state: 'go', last: false, waitMs: 0 });
    await store.endItem(id, ids[0] as string, { status: 'succeeded', costMicros: 1, images: 1 });
    expect(await store.gateItem(id, ids[2] as string)).toEqual({ state: 'cancelled', last: true, waitMs: 0 });
    expect(await store.gateItem(id, ids[2] as string)).toEqual({ state: 'ended', last: false, waitMs: 0 });
    expect(await store.completeBatch(id, 'm.jsonl', 'r.csv')).toBe(true);
    const batch = await store.getBatch('acme', id);
    expect(batch?.status).toBe('cancelled');
    expect(batch?.counts).toMatchObject({ total: 3, queued: 0, running: 0, succeeded: 1, cancelled: 2 });
    expect(batch?.results_key).toBe('r.csv');
    expect(await store.requestCancel(id)).toBe(false);
  });

  test('closeQueued ends queued items window by window and leaves running and ended ones', async () => {
    const { id, itemIds } = await makeBatch('acme', 10);
    const [running, succeeded] = itemIds as [string, string];
    await store.startItem(id, running);
    await store.startItem(id, succeeded);
    await store.endItem(id, succeeded, { status: 'succeeded', costMicros: 1, images: 1 });
    expect(await store.requestCancel(id)).toBe(true);

    const windows: { closed: { itemId: string; retries: number }[]; last: boolean }[] = [];
    for await (const w of store.closeQueued(id, 'cancelled', 3)) windows.push(w);
    // Ten positions in windows of three: four calls.
    expect(windows).toHaveLength(4);
    expect(windows.flatMap((w) => w.closed)).toEqual(
      itemIds.slice(2).map((itemId) => ({ itemId, retries: 0 })),
    );
    // The running item keeps the batch open.
    expect(windows.some((w) => w.last)).toBe(false);
    expect((await store.getBatch('acme', id))?.counts).toMatchObject({
      total: 10,
      queued: 0,
      running: 1,
      succeeded: 1,
      cancelled: 8,
    });
    expect((await store.getItem(running))?.status).toBe('running');
    // A second pass finds nothing left to close.
    for await (const w of store.closeQueued(id, 'cancelled', 3)) expect(w.closed).toEqual([]);
    expect((await store.getBatch('acme', id))?.counts).toMatchObject({ cancelled: 8 });
  });

  test('the window that closes the last open item claims the finalize once and records it in the outbox', async () => {
    const { id, itemIds } = await makeBatch('acme', 4);
    const [retried, , lastQueued, ended] = itemIds as [string, string, string, string];
    await store.startItem(id, ended);
    await store.endItem(id, ended, { status: 'succeeded', costMicros: 1, images: 1 });
    // A retried item carries its round: its job id is not the item id.
    expect((await store.closeItems(id, [retried], 'cancelled'))[0]?.closed).toBe(true);
    expect((await store.retryItems(id, [retried], ['cancelled']))[0]?.round).toBe(1);

    const windows: { closed: { itemId: string; retries: number }[]; last: boolean }[] = [];
    for await (const w of store.closeQueued(id, 'expired', 2)) windows.push(w);
    expect(windows.flatMap((w) => w.closed)).toEqual([
      { itemId: retried, retries: 1 },
      { itemId: itemIds[1], retries: 0 },
      { itemId: lastQueued, retries: 0 },
    ]);
    expect(windows.filter((w) => w.last)).toHaveLength(1);
    expect((await store.getBatch('acme', id))?.counts).toMatchObject({ queued: 0, expired: 3, succeeded: 1 });
    const entries = (await redis.xrange(store.keys.outbox(), '-', '+'))
      .map(([, fields]) =>
        Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1]]] : []))),
      )
      .filter((e) => e.batch === id && e.last === '1');
    expect(entries).toEqual([expect.objectContaining({ kind: 'item', item: lastQueued, status: 'expired' })]);
  });

  test('a job of an older retry round than its item is stale at the gate; the current round goes', async () => {
    const { id, itemIds } = await makeBatch('acme', 1);
    const itemId = itemIds[0] as string;
    expect((await store.closeItems(id, [itemId], 'cancelled'))[0]?.closed).toBe(true);
    const [retried] = await store.retryItems(id, [itemId], ['cancelled']);
    expect(retried?.round).toBe(1);
    // The round-0 job a cancel left in its queue must not run the retried item.
    expect(await store.gateItem(id, itemId, '', 0)).toEqual({ state: 'ended', last: false, waitMs: 0 });
    expect(await store.gateItem(id, itemId, '', 1)).toEqual({ state: 'go', last: false, waitMs: 0 });
    expect((await store.getItem(itemId))?.status).toBe('queued');
  });

  test('a passed deadline expires queued items at the gate', async () => {
    const id = newBatchId();
    await store.insertBatch({
      id,
      tenantId: 'acme',
      spec: { ...spec, expires_at: new Date(Date.now() - 1000).toISOString() },
    });
    const itemId = itemIdFor(id, 'a');
    await insertFedItems(store, id, 'acme', [{ id: itemId, spec: itemSpec, where: 'item 0' }]);
    await store.publishBatch(id, 'acme');
    expect(await store.gateItem(id, itemId)).toEqual({ state: 'expired', last: true, waitMs: 0 });
    expect((await store.getItem(itemId))?.status).toBe('expired');
    expect((await store.getBatch('acme', id))?.counts).toMatchObject({ queued: 0, expired: 1 });
  });

  test('retry re-opens an ended batch and takes back what the failed round added', async () => {
    const { id, itemIds } = await makeBatch('acme', 2);
    const [a, b] = itemIds as [string, string];
    for (const itemId of itemIds) await store.startItem(id, itemId);
    await store.recordOutput(a, {
      index: 0,
      key: 'k',
      content_type: 'image/png',
      width: 1,
      height: 1,
      bytes: 1,
      sha256: 'x',
    });
    await store.endItem(id, a, {
      status: 'failed',
      costMicros: 500,
      images: 1,
      error: { code: 'timeout', message: 't', retryable: false },
    });
    expect((await store.endItem(id, b, { status: 'succeeded', costMicros: 700, images: 1 })).last).toBe(true);
    expect(await store.completeBatch(id, 'm', 'r')).toBe(true);
    expect((await store.getBatch('acme', id))?.cost.actual_usd).toBeCloseTo(0.0012, 9);

    expect(await store.reopenBatch(id)).toBe(1);
    expect(await store.retryItems(id, itemIds, ['failed'])).toEqual([
      { itemId: a, round: 1 },
      { itemId: b, round: 0 },
    ]);
    const reopened = await store.getBatch('acme', id);
    expect(reopened).toMatchObject({ status: 'running', completed_at: null, manifest_key: null });
    expect(reopened?.counts).toMatchObject({ queued: 1, failed: 0, succeeded: 1 });
    expect(reopened?.cost.actual_usd).toBeCloseTo(0.0007, 9);
    expect(reopened?.images.generated).toBe(1);
    const item = await store.getItem(a);
    expect(item).toMatchObject({ status: 'queued', attempts: 0, error: null });
    expect(item?.outputs).toHaveLength(1); // kept: the retry does not pay for it again
    // A finalize that ran while the retry re-opened the batch does not complete it.
    expect(await store.completeBatch(id, 'm', 'r')).toBe(false);
    await store.startItem(id, a);
    expect((await store.endItem(id, a, { status: 'succeeded', costMicros: 900, images: 1 })).last).toBe(true);
    expect(await store.completeBatch(id, 'm', 'r')).toBe(true);
    expect((await store.getBatch('acme', id))?.cost.actual_usd).toBeCloseTo(0.0016, 9);
  });

  test('listing by status pages in submission order while items change state', async () => {
    const { id, itemIds } = await makeBatch('acme', 30);
    // Every third item fails.
    for (const [i, itemId] of itemIds.entries()) {
      if (i % 3 !== 0) continue;
      await store.startItem(id, itemId);
      await store.endItem(id, itemId, { status: 'failed', costMicros: 0, images: 0 });
    }
    const first = await store.listItems(id, { limit: 4, status: 'failed' });
    expect(first.data.map((i) => i.id)).toEqual([0, 3, 6, 9].map((i) => itemIds[i]));
    // Meanwhile an item before the cursor and one after it fail too, and a listed one is retried.
    for (const i of [1, 13]) {
      await store.startItem(id, itemIds[i] as string);
      await store.endItem(id, itemIds[i] as string, { status: 'failed', costMicros: 0, images: 0 });
    }
    await store.retryItems(id, [itemIds[3] as string], ['failed']);
    const rest = await store.listItems(id, {
      limit: 100,
      status: 'failed',
      cursor: first.next_cursor as string,
    });
    // No item is listed twice or skipped among those that stayed failed; positions only move forward.
    expect(rest.data.map((i) => i.id)).toEqual([12, 13, 15, 18, 21, 24, 27].map((i) => itemIds[i]));
    expect(rest.next_cursor).toBeNull();
  });
});
