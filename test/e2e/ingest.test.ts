/**
 * Streaming ingest over real HTTP (the API as a process, node-server's request streams): large NDJSON and
 * CSV uploads, a bad last line that leaves nothing behind, and the size limits while streaming. No
 * worker runs (accepted items stay queued) except the one that drops a cancelled batch's jobs.
 */
import { Readable } from 'node:stream';
import { queuePrefix } from '@pixelmill/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLines, stopService, waitFor } from '../support/processes.js';
import { call, REDIS_URL, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let redis: Redis;

beforeAll(async () => {
  stack = await startStack({
    workers: 0,
    env: { PIXELMILL_MAX_ITEMS_PER_BATCH: '40000', PIXELMILL_MAX_BODY_BYTES: String(8 * 1024 * 1024) },
  });
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  await redis?.quit();
  await stack?.stop();
});

/** A body sent as it is generated, a thousand lines at a time. */
function streamed(head: string, n: number, line: (i: number) => string): ReadableStream {
  async function* gen() {
    yield head;
    for (let start = 0; start < n; start += 1000) {
      let out = '';
      for (let i = start; i < Math.min(n, start + 1000); i++) out += line(i);
      yield out;
    }
  }
  return Readable.toWeb(Readable.from(gen())) as ReadableStream;
}

async function post(body: ReadableStream, type: string, query = '') {
  const res = await fetch(`${stack.apiUrl}/v1/batches${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': type },
    body,
    duplex: 'half',
  } as RequestInit);
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected field by field
  return { status: res.status, json: (await res.json()) as any };
}

/** Batch, item and ingest keys under the stack's prefix (BullMQ's own keys aside). */
async function batchKeys(): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${stack.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys.filter((k) => /:(batch|item|tenant|idem):/.test(k)));
  } while (cursor !== '0');
  return out.sort();
}

async function queuedJobs(): Promise<number> {
  const queue = new Queue('generate-gemini-3-pro-image', {
    connection: redis,
    prefix: queuePrefix(stack.prefix, 'generate-gemini-3-pro-image'),
  });
  const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active');
  await queue.close();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

const ndjsonHead = `${JSON.stringify({ model: 'gemini-3-pro-image', defaults: { size: '1K' } })}\n`;

describe('streaming ingest over HTTP', () => {
  test('30,000 CSV rows with a bad last row: 400 naming line 30002, nothing created', async () => {
    const keysBefore = await batchKeys();
    const jobsBefore = await queuedJobs();
    const r = await post(
      streamed('custom_id,prompt\n', 30_001, (i) => (i < 30_000 ? `sku-${i},shoe ${i}\n` : `sku-${i},\n`)),
      'text/csv',
      '?model=gemini-3-pro-image',
    );
    expect(r.status).toBe(400);
    expect(r.json.error.details).toEqual([{ path: 'line 30002: prompt', message: 'Required' }]);
    expect(await batchKeys()).toEqual(keysBefore);
    expect(await queuedJobs()).toBe(jobsBefore);
    expect((await call(stack, stack.apiKey, 'GET', '/v1/batches')).json.data).toEqual([]);
  });

  test('30,000 NDJSON lines are accepted whole, in order; jobs only up to the feeder high-water mark', async () => {
    const jobsBefore = await queuedJobs();
    const r = await post(
      streamed(ndjsonHead, 30_000, (i) => `${JSON.stringify({ custom_id: `n-${i}`, prompt: `hat ${i}` })}\n`),
      'application/x-ndjson',
    );
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.counts).toMatchObject({ total: 30_000, queued: 30_000 });
    // The API queues the first PIXELMILL_FEED_HIGH_WATER (default 500) as jobs; the feeder the rest.
    expect(await queuedJobs()).toBe(jobsBefore + 500);
    const last = await call(
      stack,
      stack.apiKey,
      'GET',
      `/v1/batches/${r.json.id}/items?limit=10&cursor=${Buffer.from('29995').toString('base64url')}`,
    );
    expect(last.json.data.map((i: { custom_id: string }) => i.custom_id)).toEqual(
      [29_995, 29_996, 29_997, 29_998, 29_999].map((i) => `n-${i}`),
    );
    // Cancel ends every item at once; a worker then removes their jobs in the background (or drops one
    // it picks up at the gate), without a provider call.
    const cancelled = await call(stack, stack.apiKey, 'POST', `/v1/batches/${r.json.id}/cancel`);
    expect(cancelled.json.counts).toMatchObject({ cancelled: 30_000, queued: 0 });
    const worker = stack.startWorker();
    await waitFor(
      'the cancelled jobs to be dropped',
      async () => ((await queuedJobs()) === jobsBefore ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    await stopService(worker);
    expect(stack.sim.stats().requests).toBe(0);
    expect(errorLines(worker)).toEqual([]);
  });

  test('past PIXELMILL_MAX_ITEMS_PER_BATCH or PIXELMILL_MAX_BODY_BYTES: 413 while streaming, nothing kept', async () => {
    const keysBefore = await batchKeys();
    const many = await post(
      streamed(ndjsonHead, 40_001, (i) => `${JSON.stringify({ custom_id: `m-${i}`, prompt: 'p' })}\n`),
      'application/x-ndjson',
    );
    expect(many.status).toBe(413);
    expect(many.json.error).toMatchObject({ code: 'payload_too_large' });
    expect(many.json.error.message).toContain('PIXELMILL_MAX_ITEMS_PER_BATCH');
    const big = await post(
      streamed(
        ndjsonHead,
        39_000,
        (i) => `${JSON.stringify({ custom_id: `b-${i}`, prompt: 'x'.repeat(300) })}\n`,
      ),
      'application/x-ndjson',
    ).catch((err: unknown) => ({ status: 0, json: { error: String(err) } }));
    // The API answers 413 as soon as the limit is crossed and stops reading; a client still sending
    // may see the answer or a closed connection.
    if (big.status !== 0) {
      expect(big.status).toBe(413);
      expect(big.json.error.message).toContain('PIXELMILL_MAX_BODY_BYTES');
    }
    expect(await batchKeys()).toEqual(keysBefore);
  });
});
