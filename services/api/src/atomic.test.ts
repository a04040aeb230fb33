/**
 * A batch is accepted whole or not at all (api.md "Errors"): jobs are created only once the whole upload
 * is valid and published (the first PIXELMILL_FEED_HIGH_WATER items of each model; the feeder queues
 * the rest). A batch is accepted once published: when queuing its first items fails after that, the
 * feeders queue them (from the recorded pick), none twice.
 */
import { BatchSpecCache, feedModel, itemIdFor, Queues, recoverPending } from '@pixelmill/core';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  allJobs,
  call,
  dataKeys,
  expectError,
  item,
  MODEL,
  startTestEnv,
  type TestEnv,
} from './test-support/deps.js';

type FailMode = 'none' | 'throw' | 'write-then-throw';

/** Real queues whose generation queues fail their Nth addBulk call, before or after writing to Redis. */
class FailingQueues extends Queues {
  mode: FailMode = 'none';
  failOnCall = 1;
  calls = 0;
  /** Jobs in the queue when the failing call ran (after its own write, in write-then-throw). */
  jobsAtFailure = -1;
  batchId: string | undefined;
  private readonly wrapped = new WeakSet<Queue>();

  override generate(modelId: string): Queue {
    return this.failing(super.generate(modelId));
  }

  override get economy(): Queue {
    return this.failing(super.economy);
  }

  private failing(queue: Queue): Queue {
    if (!this.wrapped.has(queue)) {
      this.wrapped.add(queue);
      const real = queue.addBulk.bind(queue);
      queue.addBulk = async (jobs) => {
        this.calls += 1;
        this.batchId = jobs[0]?.data.batch_id;
        if (this.mode === 'none' || this.calls !== this.failOnCall) return real(jobs);
        if (this.mode === 'write-then-throw') await real(jobs);
        this.jobsAtFailure = (await allJobs(queue)).length;
        throw new Error(this.mode === 'throw' ? 'Connection is closed.' : 'Command timed out (reply lost)');
      };
    }
    return queue;
  }
}

let env: TestEnv;
let queues: FailingQueues;
const ITEMS = 1500; // two chunks: 1,000 + 500
/** Items queued as jobs at acceptance; the other 500 wait for the feeder. */
const HIGH_WATER = 1000;
/** The API's first feed of each model (accept-batch.ts FIRST_FEED). */
const FIRST_FEED = 50;

beforeAll(async () => {
  env = await startTestEnv({
    options: { feedHighWater: HIGH_WATER },
    queues: (redis, prefix) => {
      queues = new FailingQueues(redis, prefix);
      return queues;
    },
  });
});

afterAll(async () => {
  await env?.close();
});

beforeEach(() => {
  queues.calls = 0;
  queues.jobsAtFailure = -1;
  queues.batchId = undefined;
});

const customIds = Array.from({ length: ITEMS }, (_, i) => `sku-${i}`);
const submit = () =>
  call(env.app, 'POST', '/v1/batches', {
    key: env.acme.key,
    body: { model: MODEL, items: customIds.map((c) => item(c)) },
  });

async function expectNothingLeft(batchId: string): Promise<void> {
  const queue = env.queues.generate(MODEL);
  expect(await allJobs(queue)).toEqual([]);
  expect(await queue.getJob(itemIdFor(batchId, 'sku-0'))).toBeUndefined();
  expect(await queue.getJob(itemIdFor(batchId, `sku-${ITEMS - 1}`))).toBeUndefined();
  // No batch, item, job or tenant-list key: only BullMQ's own bookkeeping may remain.
  expect(await dataKeys(env)).toEqual([]);
  expect(await env.store.getBatchInternal(batchId)).toBeNull();
  expectError(await call(env.app, 'GET', `/v1/batches/${batchId}`, { key: env.acme.key }), 404, 'not_found');
  expect((await call(env.app, 'GET', '/v1/batches', { key: env.acme.key })).json.data).toEqual([]);
}

/** The feeder as a worker runs it, on this test's Redis and queues. */
const feederDeps = () => ({
  redis: env.redis,
  queues: env.queues,
  itemAttempts: env.deps.options.itemAttempts,
  feeds: env.deps.feeds,
  specs: new BatchSpecCache(env.store),
  highWater: HIGH_WATER,
});

const firstJobIds = (batchId: string) =>
  new Set(customIds.slice(0, HIGH_WATER).map((c) => itemIdFor(batchId, c)));

/** Cancels an accepted batch and empties its queue, so the next test starts from nothing. */
async function cancelAndEmpty(batchId: string): Promise<void> {
  expect((await call(env.app, 'POST', `/v1/batches/${batchId}/cancel`, { key: env.acme.key })).status).toBe(
    200,
  );
  await env.queues.generate(MODEL).obliterate({ force: true });
}

describe('atomic acceptance', () => {
  test("queuing an economy batch's provider jobs fails before publishing: 503, and nothing is left", async () => {
    queues.mode = 'throw';
    const r = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      body: { model: MODEL, mode: 'economy', items: customIds.map((c) => item(c)) },
    });
    expectError(r, 503, 'service_unavailable');
    // The packs are queued in parallel: the others may have been written before the failure.
    expect(queues.calls).toBeGreaterThanOrEqual(1);
    expect(await allJobs(env.queues.economy)).toEqual([]);
    await expectNothingLeft(queues.batchId as string);
  });

  test('an upload refused for its last item never created a job: only its items are removed', async () => {
    queues.mode = 'none';
    const items = customIds.map((c) => item(c));
    // Found while resolving the item (after the first chunk was written), not by the request schema.
    items[ITEMS - 1] = item(`sku-${ITEMS - 1}`, { model: 'no-such-model' });
    const r = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      body: { model: MODEL, items },
    });
    const details = expectError(r, 400, 'invalid_request');
    expect(details.map((d) => d.path)).toEqual([`items[${ITEMS - 1}].model`]);
    expect(queues.calls).toBe(0);
    expect(await dataKeys(env)).toEqual([]);
  });

  test('the same batch is accepted once Redis answers: the first items as jobs, the rest left to the feeder', async () => {
    queues.mode = 'none';
    const r = await submit();
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    // A first feed of FIRST_FEED, then the rest of the high-water mark.
    expect(queues.calls).toBe(2);
    expect(r.json.counts).toMatchObject({ total: ITEMS, queued: ITEMS });
    const jobs = await allJobs(env.queues.generate(MODEL));
    expect(new Set(jobs.map((j) => j.id))).toEqual(
      new Set(customIds.slice(0, HIGH_WATER).map((c) => itemIdFor(r.json.id, c))),
    );
    expect(await env.redis.llen(env.store.keys.batchItems(r.json.id))).toBe(ITEMS);
    expect(await env.deps.feeds.batches(MODEL)).toContain(r.json.id);
    await cancelAndEmpty(r.json.id);
  });
  test('queuing the first items fails after publishing: 201, and the feeder queues them later, none twice', async () => {
    queues.mode = 'throw';
    const r = await submit();
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(queues.calls).toBe(1);
    expect(r.json.counts).toMatchObject({ total: ITEMS, queued: ITEMS });
    const queue = env.queues.generate(MODEL);
    expect(await allJobs(queue)).toEqual([]);
    // The first feed's pick is recorded: once its grace is over, any feeder adds those jobs; a
    // worker's feeder then tops the queue up to the high-water mark.
    expect(await recoverPending(feederDeps(), MODEL, Date.now() + 60_000)).toBe(FIRST_FEED);
    expect((await feedModel(feederDeps(), MODEL)).fed).toBe(HIGH_WATER - FIRST_FEED);
    expect(new Set((await allJobs(queue)).map((j) => j.id))).toEqual(firstJobIds(r.json.id));
    await cancelAndEmpty(r.json.id);
  });

  test('the first items are queued but the reply is lost: the recovered feed adds no job twice', async () => {
    queues.mode = 'write-then-throw';
    const r = await submit();
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(queues.jobsAtFailure).toBe(FIRST_FEED);
    const queue = env.queues.generate(MODEL);
    expect(await recoverPending(feederDeps(), MODEL, Date.now() + 60_000)).toBe(FIRST_FEED);
    expect((await feedModel(feederDeps(), MODEL)).fed).toBe(HIGH_WATER - FIRST_FEED);
    const ids = (await allJobs(queue)).map((j) => j.id);
    expect(ids).toHaveLength(HIGH_WATER);
    expect(new Set(ids)).toEqual(firstJobIds(r.json.id));
    await cancelAndEmpty(r.json.id);
  });
});
