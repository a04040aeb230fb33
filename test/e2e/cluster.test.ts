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
import { waitFor } from '../support/processes.js';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.js';
import { openTestBucket, type TestBucket } from '../support/s3.js';
import { BUCKET, call, type Stack, startStack } from '../support/stack.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { getBatch, submit, waitCompleted } from './ratelimit-helpers.js';

const MODEL = 'gemini-3.1-flash-image';
const KEY = 'cluster-key-1';
/** Requests per window (1 s here) and calls in flight the key allows; the simulator enforces both. */
const RPM = 8;
const CONCURRENCY = 3;
const WINDOW_MS = 1000;

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
    sim: { latencyMs: { min: 20, max: 80 }, windowMs: WINDOW_MS, limits: { [KEY]: { rpm: RPM } } },
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
    const items = Array.from({ length: 12 }, (_, i) => ({
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
    expect(done.counts).toMatchObject({ total: 12, succeeded: 12, failed: 0, queued: 0, running: 0 });
    expect(done.images.generated).toBe(18);

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
    expect(completed[0]?.payload.data).toMatchObject({ id: batchId, counts: { total: 12, succeeded: 12 } });

    // Store, queue and limiter keys have their own tags: they sit on more than one master.
    const store = await cluster.masterOf(`${stack.prefix}:{store}:outbox`);
    const queue = await cluster.masterOf(`${stack.prefix}:{generate-${MODEL}}:generate-${MODEL}:meta`);
    const limiter = await cluster.masterOf(`${stack.prefix}:rl:res:{gemini|${MODEL}}|x:cfg`);
    expect(new Set([store.port, queue.port, limiter.port]).size).toBeGreaterThan(1);
    expect((await keysPerMaster()).filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  test('two workers keep to the key limit together: no 429, never more than rpm per window', async () => {
    const before = stack.sim.stats().byKey[KEY]?.requests ?? 0;
    const id = await submit(stack, stack.apiKey, MODEL, 3 * RPM, { tag: 'limit' });
    const done = await waitCompleted(stack, stack.apiKey, id);
    expect(done.counts.succeeded).toBe(3 * RPM);
    const stats = stack.sim.stats().byKey[KEY]!;
    expect(stats.requests - before).toBeGreaterThanOrEqual(3 * RPM);
    expect(stats.byStatus['429'] ?? 0).toBe(0);
    expect(stats.maxWindowUse).toBeLessThanOrEqual(RPM);
    expect(stats.maxConcurrent).toBeLessThanOrEqual(CONCURRENCY);
    // Both workers took part (each logs the items it finished).
    for (const worker of stack.workers) expect(worker.output()).toContain('"batch_id":"' + id + '"');
  });

  test('the master holding the store crashes and restarts: the batch completes, no item lost', async () => {
    const count = 4 * RPM;
    const id = await submit(stack, stack.apiKey, MODEL, count, { tag: 'restart' });
    await waitFor('some items to succeed', async () =>
      (await getBatch(stack, stack.apiKey, id)).counts.succeeded >= 2 ? true : undefined,
    );
    const master = await cluster.masterOf(`${stack.prefix}:{store}:outbox`);
    await cluster.kill(master);
    await cluster.restart(master);

    const done = await waitCompleted(stack, stack.apiKey, id, 90_000);
    expect(done.counts).toMatchObject({ total: count, succeeded: count, failed: 0, cancelled: 0 });
    const list = await call(stack, stack.apiKey, 'GET', `/v1/batches/${id}/items?limit=100`);
    const ids = (list.json.data as Item[]).map((i) => i.custom_id);
    expect(ids).toEqual(Array.from({ length: count }, (_, i) => `restart-${i}`));
    expect((list.json.data as Item[]).every((i) => i.status === 'succeeded' && i.outputs.length === 1)).toBe(true);
  });
});
