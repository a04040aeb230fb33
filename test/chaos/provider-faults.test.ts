import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import {
  auditCounts,
  type ChaosStack,
  chaosItems,
  recordRow,
  startChaosStack,
} from './support/chaos-stack.js';

const OUTAGE_MS = 12_000;

let stack: ChaosStack;
let poisonServer: Server;
let poisonUrl: string;

beforeAll(async () => {
  stack = await startChaosStack({
    workers: 2,
    sim: { latencyMs: { min: 100, max: 300 } },
    // Few attempts, so an item that failed on every 5xx would fail well within the outage.
    env: { WORKER_ITEM_ATTEMPTS: '3', WORKER_CIRCUIT_FAILURES: '3', WORKER_CIRCUIT_OPEN_MS: '2000' },
  });
  // A reference-image host that drops every connection: the item's processing fails every time.
  poisonServer = createServer((req) => req.socket.destroy());
  await new Promise<void>((resolve) => poisonServer.listen(0, '127.0.0.1', resolve));
  poisonUrl = `http://127.0.0.1:${(poisonServer.address() as AddressInfo).port}/ref.png`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (poisonServer ? poisonServer.close(() => resolve()) : resolve()));
  await stack?.stop();
});

async function simConfig(body: unknown): Promise<void> {
  const res = await fetch(`${stack.sim.url}/__config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

describe('provider outage', () => {
  test('with every call failing 5xx, items wait instead of failing, and finish when the provider is back', async () => {
    await simConfig({ faults: { http5xx: 1 } });
    const startedAt = Date.now();
    const batchId = await stack.submit(chaosItems(12, 'provout'));
    await waitFor('the outage to last', () => (Date.now() - startedAt >= OUTAGE_MS ? true : undefined), {
      timeoutMs: OUTAGE_MS + 5000,
      intervalMs: 200,
    });
    const during = (await stack.call('GET', `/v1/batches/${batchId}`)).json;
    expect(during.counts.failed).toBe(0);
    expect(during.counts.succeeded).toBe(0);
    const failedCalls = stack.sim.stats().byStatus;
    await simConfig({ faults: { http5xx: 0 } });
    const backAt = Date.now();
    await stack.waitForBatch(batchId, 60_000);
    const recoverMs = Date.now() - backAt;
    const a = await stack.audit(batchId);
    expect([a.lost, a.duplicates, a.succeeded, a.failed, a.doubleGenerations]).toEqual([0, 0, 12, 0, 0]);
    const serverErrors = Object.entries(failedCalls)
      .filter(([status]) => status.startsWith('5'))
      .reduce((sum, [, n]) => sum + n, 0);
    recordRow({
      fault: 'provider outage',
      injection: `simulator POST /__config faults.http5xx=1 for ${OUTAGE_MS / 1000} s, then 0 (WORKER_ITEM_ATTEMPTS=3)`,
      ...auditCounts(a),
      recoverMs,
      note: `${serverErrors} calls answered 5xx during the outage; 0 items failed; time = provider back to batch completed`,
    });
  });
});

describe('poison input', () => {
  test('an item that fails on every attempt fails with a clear error; the rest of the batch completes', async () => {
    const items = chaosItems(10, 'poison', (i) => (i === 3 ? { reference_images: [poisonUrl] } : {}));
    const startedAt = Date.now();
    const batchId = await stack.submit(items);
    await stack.waitForBatch(batchId, 60_000);
    const a = await stack.audit(batchId);
    expect([a.lost, a.duplicates, a.succeeded, a.failed]).toEqual([0, 0, 9, 1]);
    const poisoned = a.items.find((i: { custom_id: string }) => i.custom_id === 'poison-3');
    expect(poisoned.status).toBe('failed');
    expect(poisoned.error.code).toBe('reference_image_error');
    expect(poisoned.error.message).toMatch(/could not be fetched.*gave up after 3 attempts/);
    recordRow({
      fault: 'poison item',
      injection:
        '1 of 10 items has a reference image whose host drops every connection (WORKER_ITEM_ATTEMPTS=3)',
      ...auditCounts(a),
      recoverMs: Date.now() - startedAt,
      note: `poison item failed with ${poisoned.error.code}: "${poisoned.error.message.replace(/https?:\/\/\S+/, '<url>')}"; the other 9 succeeded; time = submission to batch completed`,
    });
  });
});
