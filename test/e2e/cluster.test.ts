/**
 * The product on a real 3-master Redis Cluster (started here, support/redis-cluster.ts): a batch end
 * to end with its webhook, the limiter holding a key's limit across two workers, and a crash and
 * restart of the master that holds the store, after which the batch still completes in full.
 */
import { createHash } from 'node:crypto';
import type { Item } from '@pixelmill/client';
import { generateWebhookSecret } from '@pixelmill/webhooks';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLines, waitFor } from '../support/processes.js';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.js';
import { openTestBucket, type TestBucket } from '../support/s3.js';
import { BUCKET, call, type Stack, startStack } from '../support/stack.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { getBatch, submit, waitCompleted } from './ratelimit-helpers.js';

const MODEL = 'gemini-3.1-flash-image';
const KEY = 'cluster-key-1';
/** Requests per window (2 s here) and calls in flight the key allows, as declared to the workers. */
const RPM = 6;
const CONCURRENCY = 3;
const WINDOW_MS = 2000;

const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [${KEY}]
    models:
      - id: ${MODEL}
        rpm: ${RPM}
        concurrency: ${CONCURRENCY}
        timeout_s: 30
`;

let cluster: TestRedisCluster;
let stack: Stack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let s3: TestBucket;
const secret = generateWebhookSecret();

beforeAll(async () => {
  // Durable (AOF, fsync always): the restart test kills a master and expects its writes back.
  cluster = await startRedisCluster({ durable: true });
  stack = await startStack({
    workers: 2,
    config,
    redisCluster: cluster,
    // The simulator does not enforce the limit: it counts what arrives in any window of the same length.
    sim: { latencyMs: { min: 20, max: 80 }, windowMs: WINDOW_MS },
    env: { PIXELMILL_RATE_WINDOW_MS: String(WINDOW_MS) },
  });
  receiver = await startWebhookReceiver(secret);
  s3 = openTestBucket(stack.s3.endpoint, BUCKET);
});

afterAll(async () => {
  s3?.destroy();
  await receiver?.close();
  await stack?.stop();
  await cluster?.stop();
});

async function keysPerMaster(): Promise<number[]> {
  return Promise.all(
    cluster.nodes.map(async (n) => {
      const node = new Redis({ port: n.port, host: '127.0.0.1' });
      try {
        return await node.dbsize();
      } finally {
        node.disconnect();
      }
    }),
  );
}

describe('on a 3-master Redis Cluster', () => {
  test('a batch runs end to end: items, images in the bucket, the signed batch.completed webhook', async () => {
    const items = Array.from({ length: 10 }, (_, i) => ({
      custom_id: `sku-${i}`,
      prompt: `[sim:32x32] cluster product shot ${i}`,
      size: '1K',
      n: (i % 2) + 1,
    }));
    const created = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: MODEL,
      items,
      webhook: { url: receiver.url, secret, events: ['batch.completed'] },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const batchId: string = created.json.id;
    const done = await waitCompleted(stack, stack.apiKey, batchId);
    expect(done.counts).toMatchObject({ total: 10, succeeded: 10, failed: 0, queued: 0, running: 0 });
    expect(done.images.generated).toBe(15);

    const list = await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}/items?limit=100`);
    expect((list.json.data as Item[]).map((i) => i.custom_id)).toEqual(items.map((i) => i.custom_id));
    for (const [i, item] of (list.json.data as Item[]).entries()) {
      expect(item.status).toBe('succeeded');
      expect(item.outputs).toHaveLength(items[i]!.n);
      for (const out of item.outputs) {
        const bytes = await s3.getObject(out.key);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(out.sha256);
      }
    }

    const completed = await waitFor('the batch.completed webhook', () =>
      receiver.received.length > 0 ? receiver.received : undefined,
    );
    expect(receiver.rejected).toBe(0);
    expect(completed[0]?.payload.data).toMatchObject({ id: batchId, counts: { total: 10, succeeded: 10 } });

    // Store, queue and limiter keys have their own tags: they sit on more than one master.
    const store = await cluster.masterOf(`${stack.prefix}:{store}:outbox`);
    const queue = await cluster.masterOf(`${stack.prefix}:{generate-${MODEL}}:generate-${MODEL}:meta`);
    const limiter = await cluster.masterOf(`${stack.prefix}:rl:res:{gemini|${MODEL}}|x:cfg`);
    expect(new Set([store.port, queue.port, limiter.port]).size).toBeGreaterThan(1);
    expect((await keysPerMaster()).filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  test('two workers keep to the key limit together: rpm per window and concurrency across both', async () => {
    const before = stack.sim.stats().byKey[KEY]?.requests ?? 0;
    const id = await submit(stack, stack.apiKey, MODEL, 3 * RPM, { tag: 'limit' });
    const done = await waitCompleted(stack, stack.apiKey, id);
    expect(done.counts.succeeded).toBe(3 * RPM);
    const stats = stack.sim.stats().byKey[KEY]!;
    expect(stats.requests - before).toBeGreaterThanOrEqual(3 * RPM);
    // Two requests of slack: the simulator runs in this (busy) test process, so on a loaded machine its
    // arrival stamps bunch up by the process's pauses. Two workers limiting on their own send up to
    // 2 × RPM in a window (a worker-local limiter measured 14 here).
    expect(stats.maxWindowUse).toBeLessThanOrEqual(RPM + 2);
    expect(stats.maxConcurrent).toBeLessThanOrEqual(CONCURRENCY);
    // Both workers took part (each logs the items it finished), and neither logged an error.
    for (const worker of stack.workers) expect(worker.output()).toContain(`"batch_id":"${id}"`);
    expect([stack.api, ...stack.workers].flatMap(errorLines)).toEqual([]);
  });

  test('the master holding the store crashes and restarts: the batch completes, no item lost', async () => {
    const count = 3 * RPM;
    const id = await submit(stack, stack.apiKey, MODEL, count, { tag: 'restart' });
    await waitFor('some items to succeed', async () =>
      (await getBatch(stack, stack.apiKey, id)).counts.succeeded >= 2 ? true : undefined,
    );
    const master = await cluster.masterOf(`${stack.prefix}:{store}:outbox`);
    await cluster.kill(master);
    // The outage is real: the API, which never waits for Redis, answers 503 until the master is back.
    await waitFor('the API to answer 503', async () =>
      (await call(stack, stack.apiKey, 'GET', `/v1/batches/${id}`)).status === 503 ? true : undefined,
    );
    await cluster.restart(master);

    const done = await waitCompleted(stack, stack.apiKey, id, 90_000);
    expect(done.counts).toMatchObject({ total: count, succeeded: count, failed: 0, cancelled: 0 });
    const list = await call(stack, stack.apiKey, 'GET', `/v1/batches/${id}/items?limit=100`);
    const ids = (list.json.data as Item[]).map((i) => i.custom_id);
    expect(ids).toEqual(Array.from({ length: count }, (_, i) => `restart-${i}`));
    expect((list.json.data as Item[]).every((i) => i.status === 'succeeded' && i.outputs.length === 1)).toBe(
      true,
    );
  });
});
