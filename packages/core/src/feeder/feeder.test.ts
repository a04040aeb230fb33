import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { itemIdFor, newBatchId } from '../ids.js';
import { Queues } from '../queues.js';
import type { Priority } from '../schemas/common.js';
import { BatchSpecCache } from '../store/batch-spec-cache.js';
import { BatchStore } from '../store/batch-store.js';
import { FeedStore } from '../store/feed-store.js';
import { testBatchSpec, testItemSpec, useTestRedis } from '../test-support/index.js';
import { type FeederDeps, feedBatchOf, feedModel, recoverPending } from './feeder.js';

const db = useTestRedis('feeder');
let deps: FeederDeps;
let store: BatchStore;
let queues: Queues;

/** A published batch of `n` items (custom_ids `c0`…), every item of `model` unless `models` says otherwise. */
async function makeBatch(
  tenant: string,
  n: number,
  opts: {
    priority?: Priority;
    models?: (i: number) => string;
    economy?: (i: number) => boolean;
    /** false: registered with the feeder but not yet published (acceptance under way). */
    publish?: boolean;
  } = {},
): Promise<{ id: string; itemIds: string[]; spec: ReturnType<typeof testBatchSpec> }> {
  const id = newBatchId();
  const models = Array.from({ length: n }, (_, i) => opts.models?.(i) ?? 'sim-image');
  const spec = testBatchSpec({
    priority: opts.priority ?? 'normal',
    models: [...new Set(['sim-image', ...models])],
  });
  await store.insertBatch({ id, tenantId: tenant, spec });
  const items = models.map((model, i) => ({
    id: itemIdFor(id, `c${i}`),
    spec: testItemSpec(`c${i}`, { model, ...(opts.economy?.(i) ? { lane: 'economy' as const } : {}) }),
    where: `c${i}`,
  }));
  for (let i = 0; i < items.length; i += 1000)
    await store.insertChunk(id, tenant, items.slice(i, i + 1000), true);
  if (opts.publish !== false) await store.publishBatch(id, tenant, spec);
  await deps.feeds.register(id, spec.models ?? []);
  return { id, itemIds: items.map((i) => i.id), spec };
}

async function jobIds(model: string): Promise<string[]> {
  const jobs = await queues.generate(model).getJobs(['wait', 'prioritized', 'delayed']);
  return jobs.map((j) => j.id as string);
}

async function emptyQueue(model: string): Promise<void> {
  await queues.generate(model).obliterate({ force: true });
}

beforeAll(() => {
  store = new BatchStore(db.redis, db.prefix);
  queues = new Queues(db.redis, db.prefix);
  deps = {
    redis: db.redis,
    queues,
    itemAttempts: 3,
    feeds: new FeedStore(db.redis, db.prefix),
    specs: new BatchSpecCache(store),
    highWater: 10,
  };
});

afterAll(async () => {
  await queues.close();
});

describe('feeder', () => {
  test('tops a queue up to the high-water mark, in submission order; the rest stay specs without records', async () => {
    const { id, itemIds } = await makeBatch('acme', 25);
    expect((await feedModel(deps, 'sim-image')).fed).toBe(10);
    expect((await jobIds('sim-image')).sort()).toEqual(itemIds.slice(0, 10).sort());
    // A queue's oldest-job age counts from the batch's acceptance, not from the feed.
    const accepted = Date.parse((await store.getBatchInternal(id))?.spec.created_at ?? '');
    expect((await queues.generate('sim-image').getJob(itemIds[0] as string))?.timestamp).toBe(accepted);
    // Only fed items have a record; the others are counted as unfed.
    expect(await db.redis.exists(store.keys.item(itemIds[9] as string))).toBe(1);
    expect(await db.redis.exists(store.keys.item(itemIds[10] as string))).toBe(0);
    expect(await db.redis.hget(store.keys.batch(id), 'unfed')).toBe('15');
    // Full: nothing more until jobs leave the queue.
    expect((await feedModel(deps, 'sim-image')).fed).toBe(0);
    await emptyQueue('sim-image');
    expect((await feedModel(deps, 'sim-image')).fed).toBe(10);
    await emptyQueue('sim-image');
    expect((await feedModel(deps, 'sim-image')).fed).toBe(5);
    expect((await jobIds('sim-image')).sort()).toEqual(itemIds.slice(20).sort());
    // Every item fed: the batch left the model's set.
    expect(await deps.feeds.batches('sim-image')).not.toContain(id);
    await emptyQueue('sim-image');
  });

  test('a batch still being accepted is not fed (its jobs would be handed back) until it is published', async () => {
    const { id, itemIds, spec } = await makeBatch('acme', 3, { publish: false });
    expect((await feedModel(deps, 'sim-image')).fed).toBe(0);
    expect(await jobIds('sim-image')).toEqual([]);
    expect(await deps.feeds.batches('sim-image')).toContain(id);
    await store.publishBatch(id, 'acme', spec);
    expect((await feedModel(deps, 'sim-image')).fed).toBe(3);
    expect((await jobIds('sim-image')).sort()).toEqual([...itemIds].sort());
    await emptyQueue('sim-image');
  });

  test('a feeder that died between picking items and adding their jobs is made good by the next run', async () => {
    const { id, itemIds } = await makeBatch('acme', 4);
    const picked = await deps.feeds.take('sim-image', id, 3, false);
    expect(picked.items.map((i) => i.itemId)).toEqual(itemIds.slice(0, 3));
    // Too young: its feeder may still be adding the jobs.
    expect(await recoverPending(deps, 'sim-image')).toBe(0);
    expect(await recoverPending(deps, 'sim-image', Date.now() + 10_000)).toBe(3);
    expect((await jobIds('sim-image')).sort()).toEqual(itemIds.slice(0, 3).sort());
    expect(await deps.feeds.pending('sim-image')).toEqual([]);
    // The cursor moved with the pick: the next feed starts at the fourth item, none is picked twice.
    expect((await feedModel(deps, 'sim-image')).fed).toBe(1);
    expect((await jobIds('sim-image')).sort()).toEqual(itemIds.slice(0, 4).sort());
    await emptyQueue('sim-image');
  });

  test('the room is shared between tenants: a late small batch is fed beside a large backlog', async () => {
    const big = await makeBatch('acme', 100);
    expect((await feedModel(deps, 'sim-image')).fed).toBe(10);
    await emptyQueue('sim-image');
    const small = await makeBatch('globex', 3);
    expect((await feedModel(deps, 'sim-image')).fed).toBe(10);
    const queued = await jobIds('sim-image');
    expect(queued.filter((j) => small.itemIds.includes(j)).sort()).toEqual([...small.itemIds].sort());
    expect(queued.filter((j) => big.itemIds.includes(j))).toHaveLength(7);
    await db.redis.srem(deps.feeds.keys.feedSet('sim-image'), big.id);
    await emptyQueue('sim-image');
  });

  test('items of another model or of the economy lane are left to their own feed', async () => {
    const { id, itemIds } = await makeBatch('acme', 6, {
      models: (i) => (i % 2 === 0 ? 'sim-image' : 'sim-other'),
      economy: (i) => i === 2,
    });
    expect((await feedModel(deps, 'sim-image')).fed).toBe(2);
    expect((await jobIds('sim-image')).sort()).toEqual([itemIds[0], itemIds[4]].sort());
    expect((await feedModel(deps, 'sim-other')).fed).toBe(3);
    expect((await jobIds('sim-other')).sort()).toEqual([itemIds[1], itemIds[3], itemIds[5]].sort());
    expect(await deps.feeds.batches('sim-image')).not.toContain(id);
    await emptyQueue('sim-image');
    await emptyQueue('sim-other');
  });

  test('a cancelled batch is not fed; retry feeds its items again with the new round', async () => {
    const { id, itemIds } = await makeBatch('acme', 30);
    expect((await feedModel(deps, 'sim-image')).fed).toBe(10);
    await emptyQueue('sim-image');
    await store.requestCancel(id);
    for await (const _ of store.closeQueued(id, 'cancelled')) {
      // every queued item closed
    }
    expect((await feedModel(deps, 'sim-image')).fed).toBe(0);
    expect(await deps.feeds.batches('sim-image')).not.toContain(id);

    await store.reopenBatch(id);
    let retried = 0;
    for await (const n of store.retryInWindows(id, ['cancelled'], ['sim-image'], 7)) retried += n;
    expect(retried).toBe(30);
    expect((await store.getBatchInternal(id))?.batch.counts.queued).toBe(30);
    expect((await feedModel(deps, 'sim-image')).fed).toBe(10);
    expect((await jobIds('sim-image')).sort()).toEqual(
      itemIds
        .slice(0, 10)
        .map((i) => `${i}-r1`)
        .sort(),
    );
    await db.redis.srem(deps.feeds.keys.feedSet('sim-image'), id);
    await emptyQueue('sim-image');
  });

  test('a batch that is gone leaves the set without a job', async () => {
    const { id } = await makeBatch('acme', 3);
    await store.discardBatch(id, 'acme');
    expect((await feedModel(deps, 'sim-image')).fed).toBe(0);
    expect(await deps.feeds.batches('sim-image')).not.toContain(id);
    expect(await jobIds('sim-image')).toEqual([]);
  });

  test('feedBatchOf reads every item spec only when models or lanes may differ', () => {
    expect(feedBatchOf('b', 't', testBatchSpec()).inspect).toBe(false);
    expect(feedBatchOf('b', 't', testBatchSpec({ models: ['a', 'b'] })).inspect).toBe(true);
    expect(feedBatchOf('b', 't', testBatchSpec({ mode: 'auto' })).inspect).toBe(true);
  });
});
