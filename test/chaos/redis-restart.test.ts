import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import {
  auditCounts,
  type ChaosStack,
  chaosItems,
  type Json,
  MODEL,
  recordRow,
  startChaosStack,
} from './support/chaos-stack.js';

let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({ workers: 2, sim: { latencyMs: { min: 300, max: 800 } } });
});

afterAll(async () => {
  await stack?.stop();
});

/** Status and time of one request; never waits more than 10 s. */
async function timed(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; ms: number; body: Json }> {
  const started = Date.now();
  const res = await fetch(`${stack.apiUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, ms: Date.now() - started, body: text ? JSON.parse(text) : null };
}

describe('Redis restart during a batch', () => {
  test('the API fails fast with 503 while Redis is away; workers reconnect; nothing accepted is lost', async () => {
    const batchId = await stack.submit(chaosItems(24, 'redis'));
    await stack.waitForCount(batchId, 'succeeded', 4, 30_000);
    const stoppedAt = Date.now();
    await stack.redis.stop();

    // Readiness and writes answer 503 at once instead of hanging until Redis returns.
    const ready = await timed('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.redis).toMatch(/^error/);
    expect(ready.ms).toBeLessThan(3000);
    const write = await timed('/v1/batches', {
      method: 'POST',
      body: JSON.stringify({ model: MODEL, items: chaosItems(1, 'redis-refused') }),
    });
    expect(write.status).toBe(503);
    expect(write.body.error.code).toBe('service_unavailable');
    expect(write.ms).toBeLessThan(3000);
    const read = await timed(`/v1/batches/${batchId}`);
    expect(read.status).toBe(503);

    await stack.redis.start();
    const downMs = Date.now() - stoppedAt;
    await waitFor(
      'the API to be ready again',
      async () => ((await timed('/readyz')).status === 200 ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    const done = await stack.waitForBatch(batchId, 60_000);
    const recoverMs = Date.now() - stoppedAt - downMs;
    expect(done.counts.total).toBe(24);
    const a = await stack.audit(batchId);
    expect([a.lost, a.duplicates, a.succeeded, a.failed]).toEqual([0, 0, 24, 0]);
    // A batch submitted after the restart is accepted and completes too.
    const after = await stack.submit(chaosItems(4, 'redis-after'));
    await stack.waitForBatch(after, 30_000);
    recordRow({
      fault: 'Redis restart',
      injection: `private redis-server (AOF everysec) stopped with SIGTERM for ${(downMs / 1000).toFixed(1)} s mid-batch, restarted on the same port and directory`,
      ...auditCounts(a),
      recoverMs,
      note: `API answered 503 in ${ready.ms} ms (/readyz) and ${write.ms} ms (POST) while Redis was down; time = Redis back to batch completed`,
    });
  });
});
