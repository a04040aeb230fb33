/**
 * A retry asked for the moment a batch reads `completed`: the finalize job that completed it is still
 * in BullMQ's active list (locked) until its worker moves it on, and the retry waits for that instead
 * of answering 409.
 */
import { enqueue, itemIdFor, jobs } from '@pixelmill/core';
import { Job, Worker } from 'bullmq';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { call, item, MODEL, startTestEnv, type TestEnv } from './test-support/deps.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
});

afterAll(async () => {
  vi.restoreAllMocks();
  await env?.close();
});

/** Polls until check returns true, failing after the deadline. */
async function until(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 10_000) {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('retry right after completion waits for the finalize job to leave the active list', async () => {
  const accepted = await call(env.app, 'POST', '/v1/batches', {
    key: env.acme.key,
    body: { model: MODEL, items: [item('ok'), item('bad')] },
  });
  expect(accepted.status, JSON.stringify(accepted.json)).toBe(201);
  const batchId: string = accepted.json.id;
  // No generation worker runs here: the items end through the store, as a worker would end them.
  await env.queues.generate(MODEL).obliterate({ force: true });
  for (const [customId, status] of [
    ['ok', 'succeeded'],
    ['bad', 'failed'],
  ] as const) {
    const id = itemIdFor(batchId, customId);
    await env.store.startItem(batchId, id);
    await env.store.endItem(batchId, id, {
      status,
      costMicros: 0,
      images: status === 'succeeded' ? 1 : 0,
      ...(status === 'failed' ? { error: { code: 'provider_error', message: 'sim', retryable: false } } : {}),
    });
  }

  // A finalize worker that completes the batch, then holds its job (and the job's lock) until told.
  let completed = false;
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const connection = env.redis.duplicate();
  const worker = new Worker(
    env.queues.finalize.name,
    async () => {
      await env.store.claimFinalize(batchId);
      await env.store.completeBatch(batchId, `acme/${batchId}/manifest.jsonl`, `acme/${batchId}/results.csv`);
      completed = true;
      await held;
    },
    { connection, prefix: env.queues.finalize.opts.prefix },
  );
  try {
    await enqueue(env.queues, jobs.finalize, { batch_id: batchId, tenant_id: env.acme.id });
    await until('the batch to read completed', () => completed);
    const batch = await call(env.app, 'GET', `/v1/batches/${batchId}`, { key: env.acme.key });
    expect(batch.json.status).toBe('completed');

    // The retry's first attempt to remove the finished job meets the lock; then the worker lets go.
    const removes = vi.spyOn(Job.prototype, 'remove');
    const retry = call(env.app, 'POST', `/v1/batches/${batchId}/retry`, { key: env.acme.key, body: {} });
    await until('the retry to meet the locked finalize job', async () => {
      const attempts = removes.mock.results.length;
      if (attempts === 0) return false;
      await Promise.allSettled(removes.mock.results.map((r) => r.value));
      return removes.mock.settledResults.some((r) => r.type === 'rejected');
    });
    letGo();
    const answer = await retry;
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.headers.get('x-retried-items')).toBe('1');
    expect(answer.json.status).not.toBe('completed');
  } finally {
    letGo();
    await worker.close();
    connection.disconnect();
  }
});
