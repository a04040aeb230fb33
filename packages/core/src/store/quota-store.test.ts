import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, test } from 'vitest';
import { itemIdFor, newBatchId } from '../ids.js';
import { insertFedItems, testBatchSpec, testItemSpec, useTestRedis } from '../test-support/index.js';
import { BatchStore } from './batch-store.js';
import { QuotaStore, type TenantLimits } from './quota-store.js';

const db = useTestRedis('core-quota');
const { prefix } = db;
let redis: Redis;
let batches: BatchStore;
let quotas: QuotaStore;

const spec = testBatchSpec();
const limits = (l: Partial<TenantLimits>): TenantLimits => ({
  maxOpenBatches: 0,
  maxQueuedItems: 0,
  itemsPerMinute: 0,
  ...l,
});

/** A batch as acceptance makes it: invisible record, reservation, items, then published. */
async function accept(tenant: string, n: number, l: TenantLimits, publish = true) {
  const id = newBatchId();
  await batches.insertBatch({ id, tenantId: tenant, spec });
  const r = await quotas.reserve(tenant, id, n, l);
  if (!r.ok) {
    await quotas.release(tenant, id);
    await batches.discardBatch(id, tenant);
    return { id, r, itemIds: [] };
  }
  const itemIds = Array.from({ length: n }, (_, i) => itemIdFor(id, `c${i}`));
  await insertFedItems(
    batches,
    id,
    tenant,
    itemIds.map((itemId, i) => ({
      id: itemId,
      where: `line ${i + 1}`,
      spec: testItemSpec(`c${i}`),
    })),
  );
  if (publish) await batches.publishBatch(id, tenant);
  return { id, r, itemIds };
}

async function keys(): Promise<string[]> {
  return (await redis.keys(`${prefix}:{store}:quota:*`)).sort();
}

beforeAll(() => {
  redis = db.redis;
  batches = new BatchStore(redis, prefix);
  quotas = new QuotaStore(redis, prefix, 2000);
});

describe('QuotaStore', () => {
  test('open batches: refused past the limit; a completed or cancelled batch frees its place', async () => {
    const l = limits({ maxOpenBatches: 2 });
    const a = await accept('t-open', 1, l);
    const b = await accept('t-open', 1, l);
    expect([a.r, b.r]).toEqual([{ ok: true }, { ok: true }]);
    const c = await accept('t-open', 1, l);
    expect(c.r).toEqual({ ok: false, quota: 'max_open_batches', inUse: 2, retryAfterMs: 0 });

    // a completes (its item ended, the finalize's last write), b is cancelled: both free a place.
    await batches.startItem(a.id, a.itemIds[0] as string);
    await batches.endItem(a.id, a.itemIds[0] as string, { status: 'succeeded', costMicros: 0, images: 1 });
    await batches.completeBatch(a.id, 'manifest.jsonl');
    expect((await accept('t-open', 1, l)).r).toEqual({ ok: true });
    await batches.requestCancel(b.id);
    await batches.closeItems(b.id, b.itemIds, 'cancelled');
    expect((await accept('t-open', 1, l)).r).toEqual({ ok: true });
    expect((await accept('t-open', 1, l)).r.ok).toBe(false);
  });

  test('queued items: queued + running of open batches; ended items free the quota at once', async () => {
    const l = limits({ maxQueuedItems: 5 });
    const a = await accept('t-items', 3, l);
    expect(a.r).toEqual({ ok: true });
    expect((await accept('t-items', 3, l)).r).toEqual({
      ok: false,
      quota: 'max_queued_items',
      inUse: 3,
      retryAfterMs: 0,
    });
    // A running item still counts; an ended one does not.
    await batches.startItem(a.id, a.itemIds[0] as string);
    expect((await accept('t-items', 3, l)).r.ok).toBe(false);
    await batches.endItem(a.id, a.itemIds[0] as string, { status: 'failed', costMicros: 0, images: 0 });
    expect((await accept('t-items', 3, l)).r).toEqual({ ok: true });
  });

  test('a batch still being ingested counts with what it reserved; its final count is checked again', async () => {
    const l = limits({ maxQueuedItems: 10 });
    const streamed = newBatchId();
    await batches.insertBatch({ id: streamed, tenantId: 't-stream', spec });
    expect(await quotas.reserve('t-stream', streamed, 0, l)).toEqual({ ok: true });
    const json = await accept('t-stream', 8, l, false);
    expect(json.r).toEqual({ ok: true });
    // The stream ends with 3 items: 8 + 3 > 10.
    expect(await quotas.reserve('t-stream', streamed, 3, l)).toMatchObject({
      ok: false,
      quota: 'max_queued_items',
      inUse: 8,
    });
    expect(await quotas.reserve('t-stream', streamed, 2, l)).toEqual({ ok: true });
  });

  test('concurrent reservations of one tenant never pass the quota together', async () => {
    const l = limits({ maxOpenBatches: 3, maxQueuedItems: 10 });
    const results = await Promise.all(Array.from({ length: 12 }, () => accept('t-race', 3, l)));
    const passed = results.filter((x) => x.r.ok);
    expect(passed).toHaveLength(3);
    const open = await redis.hkeys(quotas.openKey('t-race'));
    expect(open.sort()).toEqual(passed.map((x) => x.id).sort());
  });

  test('items per minute: a sliding window; Retry-After is when enough of it has slid past', async () => {
    const l = limits({ itemsPerMinute: 10 });
    const first = await accept('t-rate', 4, l);
    const second = await accept('t-rate', 4, l);
    expect([first.r, second.r]).toEqual([{ ok: true }, { ok: true }]);
    const refused = await accept('t-rate', 4, l);
    expect(refused.r).toMatchObject({ ok: false, quota: 'items_per_minute', inUse: 8 });
    // Only the first submission has to leave the window (8 - 4 + 4 <= 10): at most one window away.
    const wait = refused.r.ok ? 0 : refused.r.retryAfterMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(quotas.windowMs);
    expect((await accept('t-rate', 2, l)).r).toEqual({ ok: true });
    // Poll (no sleeping as synchronisation) until the window has slid past the first submission.
    const deadline = Date.now() + wait + 2000;
    let r = await accept('t-rate', 4, l);
    while (!r.r.ok && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await accept('t-rate', 4, l);
    }
    expect(r.r).toEqual({ ok: true });
  });

  test('release leaves nothing behind', async () => {
    const before = await keys();
    const l = limits({ maxOpenBatches: 5, maxQueuedItems: 50, itemsPerMinute: 50 });
    const id = newBatchId();
    await batches.insertBatch({ id, tenantId: 't-release', spec });
    expect(await quotas.reserve('t-release', id, 5, l)).toEqual({ ok: true });
    expect(await keys()).toEqual(
      [...before, quotas.openKey('t-release'), quotas.windowKey('t-release')].sort(),
    );
    await quotas.release('t-release', id);
    await batches.discardBatch(id, 't-release');
    expect(await keys()).toEqual(before);
  });

  test('unlimited: every reservation passes', async () => {
    const l = limits({});
    const all = await Promise.all(Array.from({ length: 5 }, () => accept('t-free', 100, l)));
    expect(all.every((x) => x.r.ok)).toBe(true);
    expect(await redis.exists(quotas.windowKey('t-free'))).toBe(0);
  });
});
