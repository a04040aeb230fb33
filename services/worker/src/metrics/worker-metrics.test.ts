import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxStore } from '@pixelmill/core';
import { useTestRedis } from '@pixelmill/core/test-support';
import { buildRegistry } from '@pixelmill/providers';
import { createCircuitBreaker, createLimiter } from '@pixelmill/ratelimit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Spool } from '../generate/spool.js';
import { UploadGate } from '../generate/upload-gate.js';
import { createWorkerMetrics } from './worker-metrics.js';

const db = useTestRedis('worker-metrics', { maxRetriesPerRequest: null });
const { prefix } = db;
const MODEL = 'sim-image';
let redis: Redis;
let dir: string;

beforeAll(async () => {
  redis = db.redis;
  dir = await mkdtemp(join(tmpdir(), 'pixelmill-worker-metrics-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup(maxPendingBytes = 1000) {
  // No provider is called here: the registry only names the models whose breakers are read.
  const registry = buildRegistry({
    providers: [
      {
        name: 'sim',
        kind: 'gemini',
        base_url: 'http://127.0.0.1:1',
        api_keys: ['sim-metrics-key'],
        models: [{ id: MODEL, rpm: 60, concurrency: 1, timeout_s: 30 }],
      },
    ],
  });
  const circuit = createCircuitBreaker(redis, { prefix: `${prefix}:cb`, failureThreshold: 2 });
  const uploads = new UploadGate(maxPendingBytes);
  const metrics = createWorkerMetrics({
    registry,
    limiter: createLimiter(redis, { prefix: `${prefix}:rl` }),
    uploads,
    spool: new Spool(join(dir, 'spool')),
    circuit,
    outbox: new OutboxStore(redis, prefix),
  });
  const scrape = async (series: string) => {
    const text = await metrics.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  return { circuit, uploads, scrape };
}

const circuitSeries = (state: string) =>
  `pixelmill_circuit_state{provider="sim",model="${MODEL}",state="${state}"}`;

describe('pixelmill_circuit_state', () => {
  test("one-hot on the model's breaker state as read from Redis", async () => {
    const { circuit, scrape } = setup();
    expect(await scrape(circuitSeries('closed'))).toBe(1);
    expect(await scrape(circuitSeries('open'))).toBe(0);
    await circuit.recordFailure(MODEL);
    await circuit.recordFailure(MODEL);
    expect(await scrape(circuitSeries('open'))).toBe(1);
    expect(await scrape(circuitSeries('closed'))).toBe(0);
    expect(await scrape(circuitSeries('half-open'))).toBe(0);
  });
});

describe('pixelmill_upload_gate_open', () => {
  test('0 while held bytes reach the cap or an upload retries, 1 otherwise', async () => {
    const { uploads, scrape } = setup(1000);
    expect(await scrape('pixelmill_upload_gate_open')).toBe(1);
    const release = uploads.hold(1000);
    expect(await scrape('pixelmill_upload_gate_open')).toBe(0);
    // At the cap but not failing: pixelmill_upload_failing alone would not show the gate closed.
    expect(await scrape('pixelmill_upload_failing')).toBe(0);
    release();
    expect(await scrape('pixelmill_upload_gate_open')).toBe(1);
    const retried = uploads.uploadRetrying();
    expect(await scrape('pixelmill_upload_gate_open')).toBe(0);
    retried();
    expect(await scrape('pixelmill_upload_gate_open')).toBe(1);
  });
});

describe('pixelmill_webhook_outbox_pending', () => {
  test('counts outbox entries until a relay has finished them, read or not', async () => {
    const { scrape } = setup();
    const outbox = new OutboxStore(redis, prefix);
    await outbox.ensureGroup();
    expect(await scrape('pixelmill_webhook_outbox_pending')).toBe(0);
    for (const item of ['item_1', 'item_2', 'item_3'])
      await redis.xadd(
        outbox.key,
        '*',
        'kind',
        'item',
        'batch',
        'batch_1',
        'item',
        item,
        'status',
        'succeeded',
      );
    expect(await scrape('pixelmill_webhook_outbox_pending')).toBe(3);
    const [first] = await outbox.read('relay-test', 1, 0);
    // Read by a relay but not finished: still pending (a relay that dies here leaves it to another).
    expect(await scrape('pixelmill_webhook_outbox_pending')).toBe(3);
    await outbox.remove((first as { id: string }).id);
    expect(await scrape('pixelmill_webhook_outbox_pending')).toBe(2);
  });
});
