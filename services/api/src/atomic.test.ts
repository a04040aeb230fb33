/**
 * A batch is accepted whole or not at all (api.md "Errors"): jobs are created only once the whole upload
 * is valid, and when enqueueing fails midway, what was already written (batch, items, the first
 * chunk's jobs) is removed.
 */
import { itemIdFor, Queues } from '@pixelmill/core';
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
  failOnCall = 2;
  calls = 0;
  /** Jobs in the queue when the failing call ran (after its own write, in write-then-throw). */
  jobsAtFailure = -1;
  batchId: string | undefined;
  private readonly wrapped = new WeakSet<Queue>();

  override generate(modelId: string): Queue {
    const queue = super.generate(modelId);
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

beforeAll(async () => {
  env = await startTestEnv({
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

describe('atomic acceptance', () => {
  test('the second enqueue chunk fails: 503, and the first chunk, items and batch are gone', async () => {
    queues.mode = 'throw';
    const r = await submit();
    expectError(r, 503, 'service_unavailable');
    expect(queues.calls).toBe(2);
    expect(queues.jobsAtFailure).toBe(1000); // the first chunk really was in the queue
    await expectNothingLeft(queues.batchId as string);
  });

  test('the second chunk is written but its reply is lost: its jobs are removed too', async () => {
    queues.mode = 'write-then-throw';
    const r = await submit();
    expectError(r, 503, 'service_unavailable');
    expect(queues.jobsAtFailure).toBe(ITEMS);
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

  test('the same batch is accepted in two chunks once Redis answers', async () => {
    queues.mode = 'none';
    const r = await submit();
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(queues.calls).toBe(2);
    expect(r.json.counts.total).toBe(ITEMS);
    const jobs = await allJobs(env.queues.generate(MODEL));
    expect(jobs).toHaveLength(ITEMS);
    expect(new Set(jobs.map((j) => j.id))).toEqual(new Set(customIds.map((c) => itemIdFor(r.json.id, c))));
    expect(await env.redis.llen(env.store.keys.batchItems(r.json.id))).toBe(ITEMS);
  });
});
