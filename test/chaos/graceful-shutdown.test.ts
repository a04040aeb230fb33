import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startService, stopService, waitFor } from '../support/processes.js';
import {
  auditCounts,
  type ChaosStack,
  chaosItems,
  MODEL,
  recordRow,
  startChaosStack,
} from './support/chaos-stack.js';

let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({ workers: 2, sim: { latencyMs: { min: 1500, max: 2500 } } });
});

afterAll(async () => {
  await stack?.stop();
});

const running = async (batchId: string) =>
  (await stack.call('GET', `/v1/batches/${batchId}`)).json.counts.running as number;

describe('SIGTERM', () => {
  test('a worker finishes its running jobs, takes no new ones, and exits 0', async () => {
    const [worker] = stack.workers;
    const batchId = await stack.submit(chaosItems(12, 'termfinish'));
    await waitFor('both workers to be busy', async () => ((await running(batchId)) >= 8 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    const signalledAt = Date.now();
    worker!.child.kill('SIGTERM');
    expect(await worker!.exited).toBe(0);
    const exitMs = Date.now() - signalledAt;
    const out = worker!.output();
    expect(out).not.toContain('handed them back');
    expect(out).toContain('"step":"close redis"');
    await stack.waitForBatch(batchId, 60_000);
    const a = await stack.audit(batchId);
    expect([a.lost, a.duplicates, a.doubleGenerations, a.succeeded]).toEqual([0, 0, 0, 12]);
    recordRow({
      fault: 'worker SIGTERM (jobs finish in time)',
      injection: 'SIGTERM to 1 of 2 busy workers; calls take 1.5-2.5 s, WORKER_SHUTDOWN_TIMEOUT_MS=5000',
      ...auditCounts(a),
      recoverMs: exitMs,
      note: 'time = SIGTERM to exit 0',
    });
  });

  test('past WORKER_SHUTDOWN_TIMEOUT_MS a worker hands its running jobs back and exits 0', async () => {
    const worker = await stack.startWorker({ WORKER_SHUTDOWN_TIMEOUT_MS: '1000' });
    // Calls now outlast the shutdown deadline.
    await fetch(`${stack.sim.url}/__config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: { min: 4000, max: 5000 } }),
    });
    const batchId = await stack.submit(chaosItems(8, 'termhandback'));
    await waitFor('both workers to be busy', async () => ((await running(batchId)) >= 8 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const exitMs = Date.now() - signalledAt;
    expect(exitMs).toBeLessThan(1000 + 5000);
    expect(worker.output()).toContain('handed them back');
    await fetch(`${stack.sim.url}/__config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: { min: 200, max: 400 } }),
    });
    await stack.waitForBatch(batchId, 60_000);
    const a = await stack.audit(batchId);
    expect([a.lost, a.duplicates, a.doubleGenerations, a.succeeded]).toEqual([0, 0, 0, 8]);
    recordRow({
      fault: 'worker SIGTERM (deadline passes)',
      injection: 'SIGTERM to a worker with 4 calls of 4-5 s in flight, WORKER_SHUTDOWN_TIMEOUT_MS=1000',
      ...auditCounts(a),
      recoverMs: exitMs,
      note: `time = SIGTERM to exit 0; jobs handed back at once; ${a.providerSuccesses - a.submitted} abandoned in-flight calls charged upstream`,
    });
  });

  test('the API finishes an in-flight request, refuses new connections, and exits 0', async () => {
    const items = chaosItems(50, 'apiterm');
    const body = JSON.stringify({ model: MODEL, items });
    const url = new URL(`${stack.apiUrl}/v1/batches`);
    let answer: { status: number; text: string } | undefined;
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.apiKey}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    const answered = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () => {
          answer = { status: res.statusCode ?? 0, text };
          resolve();
        });
      });
      req.on('error', reject);
    });
    // Half the body is on the wire when the signal arrives: the request is in flight.
    await new Promise<void>((resolve, reject) =>
      req.write(body.slice(0, body.length / 2), (err) => (err ? reject(err) : resolve())),
    );
    const signalledAt = Date.now();
    stack.api.child.kill('SIGTERM');
    await waitFor('the API to start shutting down', () =>
      stack.api.output().includes('shutting down') ? true : undefined,
    );
    // A new connection is refused while the old request is still open.
    await expect(fetch(`${stack.apiUrl}/healthz`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    req.end(body.slice(body.length / 2));
    await answered;
    expect(answer?.status, answer?.text).toBe(201);
    expect(await stack.api.exited).toBe(0);
    const exitMs = Date.now() - signalledAt;
    const batchId = JSON.parse(answer!.text).id as string;
    expect(batchId).toMatch(/^batch_/);

    // The accepted batch is whole: a new API process on the same port sees it through to the end.
    const api = startService('api', 'services/api/src/main.ts', stack.env);
    try {
      await waitFor('the new API to be ready', async () =>
        (await fetch(`${stack.apiUrl}/readyz`).catch(() => null))?.ok ? true : undefined,
      );
      await stack.waitForBatch(batchId, 60_000);
      const a = await stack.audit(batchId);
      expect([a.submitted, a.lost, a.duplicates, a.doubleGenerations]).toEqual([50, 0, 0, 0]);
      recordRow({
        fault: 'API SIGTERM',
        injection: 'SIGTERM while a 50-item POST /v1/batches body is half sent',
        ...auditCounts(a),
        recoverMs: exitMs,
        note: 'time = SIGTERM to exit 0; the in-flight request answered 201, new connections were refused',
      });
    } finally {
      await stopService(api);
    }
  });
});
