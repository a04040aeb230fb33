import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { itemIdFor, newBatchId } from '../ids.js';
import { versionKey } from '../object-keys.js';
import type { ItemOutput, OutputQa } from '../schemas/batch.js';
import { insertFedItems } from '../test-support/index.js';
import { BatchStore } from './batch-store.js';
import { OutboxStore } from './outbox-store.js';
import type { BatchSpec } from './records.js';

const prefix = `test:core-review:${randomUUID()}`;
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
  images_requested: 2,
};

const qa = (status: 'passed' | 'flagged'): OutputQa => ({
  status,
  dhash: '0123456789abcdef',
  checks: [{ name: 'blank', passed: status === 'passed', value: status === 'passed' ? 40 : 0 }],
});

const output = (index: number, key: string, status: 'passed' | 'flagged'): ItemOutput => ({
  index,
  key,
  content_type: 'image/png',
  width: 64,
  height: 64,
  bytes: 10,
  sha256: 'x',
  qa: qa(status),
});

async function makeBatch(n: number): Promise<{ id: string; itemIds: string[] }> {
  const id = newBatchId();
  await store.insertBatch({ id, tenantId: 'acme', spec });
  const items = Array.from({ length: n }, (_, i) => ({
    id: itemIdFor(id, `c${i}`),
    spec: {
      custom_id: `c${i}`,
      model: 'sim-image',
      prompt: `p${i}`,
      size: '1K' as const,
      aspect_ratio: '1:1',
      n: 2,
      reference_images: [],
      metadata: {},
    },
  }));
  await insertFedItems(
    store,
    id,
    'acme',
    items.map((item, i) => ({ ...item, where: `items[${i}]` })),
  );
  await store.publishBatch(id, 'acme');
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

async function changeEntries(): Promise<{ type: string; itemId: string; key: string }[]> {
  const rows = await redis.xrange(new OutboxStore(redis, prefix).key, '-', '+');
  return rows
    .map(([, flat]) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : []))))
    .filter((f) => f.kind === 'change')
    .map((f) => ({ type: f.type as string, itemId: f.item as string, key: f.key as string }));
}

describe('versions and reviews in the batch store', () => {
  test('version keys sit in versions/<N>/ of the same folder; version 1 is the key itself', () => {
    expect(versionKey('acme/b/sku/0.png', 1)).toBe('acme/b/sku/0.png');
    expect(versionKey('acme/b/sku/0.png', 3)).toBe('acme/b/sku/versions/3/0.png');
  });

  test('a QA version keeps the old outputs, carries the unflagged ones over and counts the replaced cost at the end', async () => {
    const { id, itemIds } = await makeBatch(1);
    const itemId = itemIds[0] as string;
    await store.startItem(id, itemId);
    await store.recordOutput(itemId, output(0, 'k/0.png', 'passed'));
    await store.recordOutput(itemId, output(1, 'k/1.png', 'flagged'));
    expect((await store.getItem(itemId))?.qa_status).toBe('flagged');
    const cause = { reason: 'qa_flag' as const, checks: ['blank' as const], indexes: [1] };
    const v = await store.startQaVersion(id, itemId, {
      keep: [0],
      cause,
      replacedMicros: 40_000,
      replacedImages: 1,
    });
    expect(v).toBe(2);
    let item = await store.getItem(itemId);
    expect(item?.version).toBe(2);
    expect(item?.outputs.map((o) => o.key)).toEqual(['k/0.png']);
    expect(item?.versions.map((x) => [x.version, x.outputs.length, x.cause.reason])).toEqual([
      [1, 2, 'initial'],
      [2, 1, 'qa_flag'],
    ]);
    await store.recordOutput(itemId, output(1, 'k/versions/2/1.png', 'passed'));
    await store.endItem(id, itemId, { status: 'succeeded', costMicros: 80_000, images: 2 });
    item = await store.getItem(itemId);
    expect(item?.cost_usd).toBeCloseTo(0.12, 6);
    expect(item?.qa_status).toBe('passed');
    expect((await store.getBatch('acme', id))?.cost.actual_usd).toBeCloseTo(0.12, 6);
    expect((await store.getBatch('acme', id))?.images.generated).toBe(3);
    // Choosing the first version shows its outputs and its QA summary, in listings too.
    await store.chooseOutput(itemId, { version: 1, index: 0 });
    item = await store.getItem(itemId);
    expect(item?.chosen).toEqual({ version: 1, index: 0 });
    expect(item?.outputs.map((o) => o.key)).toEqual(['k/0.png', 'k/1.png']);
    expect((await store.listItems(id, { limit: 10, qa: 'flagged' })).data.map((i) => i.id)).toEqual([itemId]);
    expect((await store.listItems(id, { limit: 10, qa: 'passed' })).data).toEqual([]);
    expect((await changeEntries()).filter((e) => e.itemId === itemId)).toEqual([
      { type: 'item.regenerated', itemId, key: 'v2' },
    ]);
  });

  test('a requested regeneration re-opens an ended item of its batch only, with a new spec and a pending review', async () => {
    const { id, itemIds } = await makeBatch(2);
    const [a, b] = itemIds as [string, string];
    for (const i of itemIds) {
      await store.startItem(id, i);
      await store.recordOutput(i, output(0, `${i}/0.png`, 'passed'));
      await store.endItem(id, i, { status: 'succeeded', costMicros: 40_000, images: 1 });
    }
    const review = { status: 'rejected' as const, by: 'abc', at: new Date().toISOString(), note: 'too dark' };
    expect(await store.reviewItems(id, [a, 'item_nope'], review)).toEqual([a]);
    expect((await store.listItems(id, { limit: 10, review: 'rejected' })).data.map((i) => i.id)).toEqual([a]);
    expect((await store.listItems(id, { limit: 10, review: 'pending' })).data.map((i) => i.id)).toEqual([b]);
    // Another batch's item is not this batch's to regenerate.
    const other = await makeBatch(1);
    const item = await store.getItem(a);
    const newSpec = { ...(await store.getItem(a))!, prompt: 'brighter' };
    const itemSpec = {
      custom_id: newSpec.custom_id,
      model: newSpec.model,
      prompt: 'brighter',
      size: newSpec.size,
      aspect_ratio: newSpec.aspect_ratio,
      n: 1,
      reference_images: [],
      metadata: {},
    };
    const cause = { reason: 'requested' as const, by: 'abc', changed: ['prompt'] };
    expect((await store.regenerateItem(other.id, a, itemSpec, cause)).state).toBe('missing');
    const r = await store.regenerateItem(id, a, itemSpec, cause);
    expect(r).toEqual({ state: 'queued', round: 1, version: 2 });
    expect((await store.regenerateItem(id, a, itemSpec, cause)).state).toBe('open');
    const after = await store.getItem(a);
    expect(after?.status).toBe('queued');
    expect(after?.prompt).toBe('brighter');
    expect(after?.review.status).toBe('pending');
    expect(after?.outputs).toEqual([]);
    expect(after?.versions[0]).toMatchObject({
      version: 1,
      prompt: item?.prompt,
      outputs: [{ key: `${a}/0.png` }],
    });
    let batch = await store.getBatch('acme', id);
    expect(batch?.counts.queued).toBe(1);
    // What the item cost stays in the batch's total while its new version is generated.
    expect(batch?.cost.actual_usd).toBeCloseTo(0.08, 6);
    expect(after?.cost_usd).toBeCloseTo(0.04, 6);
    await store.startItem(id, a);
    await store.recordOutput(a, output(0, versionKey(`${a}/0.png`, 2), 'passed'));
    await store.endItem(id, a, { status: 'succeeded', costMicros: 40_000, images: 1 });
    batch = await store.getBatch('acme', id);
    expect(batch?.cost.actual_usd).toBeCloseTo(0.12, 6);
    expect((await store.getItem(a))?.cost_usd).toBeCloseTo(0.08, 6);
    const changes = (await changeEntries()).filter((e) => e.itemId === a);
    expect(changes.map((c) => c.type)).toEqual(['item.reviewed', 'item.regenerated']);
  });

  test('a retried item keeps what its earlier versions cost; the batch stays the sum of its items', async () => {
    const { id, itemIds } = await makeBatch(1);
    const a = itemIds[0] as string;
    await store.startItem(id, a);
    await store.recordOutput(a, output(0, `${a}/0.png`, 'passed'));
    await store.endItem(id, a, { status: 'succeeded', costMicros: 40_000, images: 1 });
    const cause = { reason: 'requested' as const, by: 'abc', changed: [] };
    const spec = {
      custom_id: 'c0',
      model: 'sim-image',
      prompt: 'p0',
      size: '1K' as const,
      aspect_ratio: '1:1',
      n: 1,
      reference_images: [],
      metadata: {},
    };
    expect((await store.regenerateItem(id, a, spec, cause)).state).toBe('queued');
    await store.startItem(id, a);
    await store.endItem(id, a, { status: 'failed', error: null, costMicros: 0, images: 0 });
    expect((await store.getBatch('acme', id))?.cost.actual_usd).toBeCloseTo(0.04, 6);
    await store.retryItems(id, [a], ['failed']);
    expect((await store.getBatch('acme', id))?.cost.actual_usd).toBeCloseTo(0.04, 6);
    expect((await store.getItem(a))?.cost_usd).toBeCloseTo(0.04, 6);
    // Cancelled before it runs again: the first version's cost is still counted.
    await store.closeItems(id, [a], 'cancelled');
    expect((await store.getBatch('acme', id))?.cost.actual_usd).toBeCloseTo(0.04, 6);
  });
});
