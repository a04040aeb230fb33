/**
 * Batch lifecycle on the whole product (API and workers as processes, s3rver, the simulator over HTTP):
 * a streamed NDJSON batch with a template and results.csv, cancel during a run, retry of failed items,
 * content-addressed dedupe with a key template, and a deadline.
 */
import { createHash } from 'node:crypto';
import { queuePrefix } from '@pixelmill/core';
import { Queue } from 'bullmq';
import { parse } from 'csv-parse/sync';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import { openTestBucket, type TestBucket } from '../support/s3.js';
import { BUCKET, call, REDIS_URL, type Stack, startStack } from '../support/stack.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies are inspected field by field
type Json = any;

let stack: Stack;
let s3: TestBucket;
let redis: Redis;

beforeAll(async () => {
  // Slow enough that a cancel and a deadline land while most items still wait.
  stack = await startStack({ workers: 2, sim: { latencyMs: { min: 150, max: 300 } } });
  s3 = openTestBucket(stack.s3.endpoint, BUCKET);
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  s3?.destroy();
  await redis?.quit();
  await stack?.stop();
});

const getObject = (key: string) => s3.getObject(key);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function postStream(body: string, type: string, query = '') {
  const res = await fetch(`${stack.apiUrl}/v1/batches${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': type },
    body,
  });
  return { status: res.status, json: (await res.json()) as Json };
}

async function ended(batchId: string, status: 'completed' | 'cancelled' = 'completed') {
  return waitFor(
    `batch ${batchId} to be ${status}`,
    async () => {
      const r = await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}`);
      return r.json.status === status ? r.json : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 200 },
  );
}

async function items(batchId: string): Promise<Json[]> {
  const r = await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}/items?limit=1000`);
  return r.json.data;
}

async function setSim(config: unknown): Promise<void> {
  const res = await fetch(`${stack.sim.url}/__config`, { method: 'POST', body: JSON.stringify(config) });
  expect(res.status).toBe(200);
}

describe('lifecycle', () => {
  test('a streamed NDJSON batch with a template completes; results.csv in the bucket and from the API', async () => {
    const lines = [
      {
        model: 'gemini-3-pro-image',
        prompt_template: 'Studio photo of {{title}} on {{background}} [sim:64x64]',
      },
      ...Array.from({ length: 12 }, (_, i) => ({
        custom_id: `nd-${i}`,
        vars: { title: `shoe ${i}`, background: 'white' },
      })),
    ];
    const created = await postStream(lines.map((l) => JSON.stringify(l)).join('\n'), 'application/x-ndjson');
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const done = await ended(created.json.id);
    expect(done.counts).toMatchObject({ total: 12, succeeded: 12, expired: 0 });
    expect(done.results_key).toBe(`acme/${created.json.id}/results.csv`);
    expect((await fetch(done.results_url)).status).toBe(200);

    const stored = parse(await getObject(done.results_key), { columns: true }) as Record<string, string>[];
    expect(stored.map((r) => [r.custom_id, r.status])).toEqual(
      lines.slice(1).map((l: Json) => [l.custom_id, 'succeeded']),
    );
    for (const row of stored) {
      expect(row.output_keys).toBe(`acme/${created.json.id}/${row.custom_id}/0.png`);
      expect(sha256(Buffer.from(await (await fetch(row.output_urls as string)).arrayBuffer()))).toBe(
        sha256(await getObject(row.output_keys as string)),
      );
    }
    const viaApi = await fetch(`${stack.apiUrl}/v1/batches/${created.json.id}/results`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    expect(viaApi.headers.get('content-type')).toContain('text/csv');
    const rows = parse(await viaApi.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.custom_id, r.status, r.output_keys])).toEqual(
      stored.map((r) => [r.custom_id, r.status, r.output_keys]),
    );
    expect((await items(created.json.id))[3].prompt).toBe('Studio photo of shoe 3 on white [sim:64x64]');
  });

  test('cancel during a run: queued items end cancelled, their jobs leave the queue, running ones finish', async () => {
    const created = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      items: Array.from({ length: 80 }, (_, i) => ({
        custom_id: `c-${i}`,
        prompt: `cancel me ${i} [sim:64x64]`,
      })),
    });
    expect(created.status).toBe(201);
    const id: string = created.json.id;
    await waitFor('the first items to succeed', async () => {
      const r = await call(stack, stack.apiKey, 'GET', `/v1/batches/${id}`);
      return r.json.counts.succeeded > 0 ? true : undefined;
    });
    const cancelled = await call(stack, stack.apiKey, 'POST', `/v1/batches/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(['cancelling', 'cancelled']).toContain(cancelled.json.status);
    const done = await ended(id, 'cancelled');
    expect(done.counts.queued + done.counts.running).toBe(0);
    expect(done.counts.cancelled).toBeGreaterThan(0);
    expect(done.counts.succeeded + done.counts.cancelled + done.counts.failed).toBe(80);
    expect(done.manifest_url).toBeTruthy();
    for (const item of await items(id)) {
      if (item.status === 'cancelled') expect(item.outputs).toEqual([]);
      else expect(item.status).toBe('succeeded');
    }
    // No job of the batch is left waiting in the queue.
    const queue = new Queue('generate-gemini-3-pro-image', {
      connection: redis,
      prefix: queuePrefix(stack.prefix, 'generate-gemini-3-pro-image'),
    });
    const left = await queue.getJobs(['wait', 'prioritized', 'delayed', 'active']);
    await queue.close();
    expect(left.filter((j) => j?.data?.batch_id === id)).toEqual([]);
    // Cancelling again answers the ended batch unchanged.
    expect((await call(stack, stack.apiKey, 'POST', `/v1/batches/${id}/cancel`)).json.status).toBe(
      'cancelled',
    );
  });

  test('retry: failed items run again with attempts reset; the batch completes again with new results', async () => {
    // While the word is blocked, two items fail as content_blocked (terminal).
    await setSim({ blockedWords: ['retryblock'] });
    const created = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      items: Array.from({ length: 6 }, (_, i) => ({
        custom_id: `r-${i}`,
        prompt: `${i % 3 === 0 ? 'retryblock ' : ''}product ${i} [sim:64x64]`,
      })),
    });
    expect(created.status).toBe(201);
    const id: string = created.json.id;
    const first = await ended(id);
    expect(first.counts).toMatchObject({ succeeded: 4, failed: 2 });
    const failed = (await items(id)).filter((i) => i.status === 'failed');
    expect(failed.map((i) => i.error.code)).toEqual(['content_blocked', 'content_blocked']);

    await setSim({ blockedWords: ['forbidden'] });
    const retried = await call(stack, stack.apiKey, 'POST', `/v1/batches/${id}/retry`);
    expect(retried.status).toBe(200);
    expect(['queued', 'running']).toContain(retried.json.status);
    expect(retried.json.counts).toMatchObject({ failed: 0, queued: 2, succeeded: 4 });
    expect(retried.json.completed_at).toBeNull();
    const second = await ended(id);
    expect(second.counts).toMatchObject({ total: 6, succeeded: 6, failed: 0 });
    expect(second.images.generated).toBe(6);
    for (const item of (await items(id)).filter((i) => failed.some((f) => f.id === i.id))) {
      expect(item).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    }
    const rows = parse(await getObject(second.results_key), { columns: true }) as Record<string, string>[];
    expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
    // Nothing to retry: the batch is answered as it is.
    const again = await call(stack, stack.apiKey, 'POST', `/v1/batches/${id}/retry`);
    expect(again.json.status).toBe('completed');
  });

  test('dedupe: an identical request is copied, not paid again, and lands at the key template', async () => {
    const prompt = (i: number) => `dedupe shot ${i} [sim:64x64]`;
    const a = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      dedupe: true,
      items: [0, 1].map((i) => ({ custom_id: `a-${i}`, prompt: prompt(i) })),
    });
    await ended(a.json.id);
    const paidBefore = stack.sim.stats().successesByPrompt;
    const b = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      dedupe: true,
      output: { prefix: 'dd/', key_template: '{prefix}{custom_id}-{index}.{ext}' },
      items: [0, 1, 2].map((i) => ({ custom_id: `b-${i}`, prompt: prompt(i) })),
    });
    expect(b.status).toBe(201);
    const done = await ended(b.json.id);
    expect(done.counts).toMatchObject({ succeeded: 3 });
    const stats = stack.sim.stats().successesByPrompt;
    expect(stats[prompt(0)]).toBe(paidBefore[prompt(0)]);
    expect(stats[prompt(1)]).toBe(paidBefore[prompt(1)]);
    expect(stats[prompt(2)]).toBe(1);
    const [aItems, bItems] = [await items(a.json.id), await items(b.json.id)];
    for (const i of [0, 1]) {
      const item = bItems[i];
      expect(item.reused_from).toEqual({ batch_id: a.json.id, item_id: aItems[i].id, custom_id: `a-${i}` });
      expect(item.cost_usd).toBe(0);
      expect(item.outputs[0].key).toBe(`acme/dd/b-${i}-0.png`);
      expect(item.outputs[0].sha256).toBe(aItems[i].outputs[0].sha256);
      expect(sha256(await getObject(item.outputs[0].key))).toBe(item.outputs[0].sha256);
    }
    expect(bItems[2].reused_from).toBeNull();
    expect(bItems[2].outputs[0].key).toBe('acme/dd/b-2-0.png');
    expect(done.cost.actual_usd).toBeCloseTo(bItems[2].cost_usd, 9);
  });

  test('output format and key template: WebP and JPEG conversions land at the templated keys', async () => {
    for (const [format, ext, magic] of [
      [
        'webp',
        'webp',
        (b: Buffer) => b.subarray(0, 4).toString() === 'RIFF' && b.subarray(8, 12).toString() === 'WEBP',
      ],
      ['jpeg', 'jpg', (b: Buffer) => b[0] === 0xff && b[1] === 0xd8],
    ] as const) {
      const created = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
        model: 'gemini-3-pro-image',
        output: {
          prefix: `fmt/${format}`,
          format,
          key_template: '{prefix}{model}/{custom_id}-{index}.{ext}',
        },
        items: [{ custom_id: 'shoe', prompt: `format ${format} [sim:64x64]`, n: 2 }],
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      await ended(created.json.id);
      const [item] = await items(created.json.id);
      expect(item.outputs.map((o: Json) => [o.key, o.content_type])).toEqual([
        [`acme/fmt/${format}/gemini-3-pro-image/shoe-0.${ext}`, `image/${format}`],
        [`acme/fmt/${format}/gemini-3-pro-image/shoe-1.${ext}`, `image/${format}`],
      ]);
      for (const o of item.outputs) {
        const bytes = await getObject(o.key);
        expect(magic(bytes)).toBe(true);
        expect(sha256(bytes)).toBe(o.sha256);
      }
    }
  });

  test('a deadline: items not started by expires_at end expired, and the batch completes', async () => {
    await setSim({ latencyMs: { min: 800, max: 1000 } });
    try {
      const created = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
        model: 'gemini-3.1-flash-image',
        expires_at: new Date(Date.now() + 1500).toISOString(),
        items: Array.from({ length: 60 }, (_, i) => ({
          custom_id: `e-${i}`,
          prompt: `late ${i} [sim:64x64]`,
        })),
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      const done = await ended(created.json.id);
      expect(done.counts.expired).toBeGreaterThan(0);
      expect(done.counts.succeeded + done.counts.expired).toBe(60);
      const expired = (await items(created.json.id)).filter((i) => i.status === 'expired');
      expect(expired.every((i) => i.outputs.length === 0 && i.started_at === null)).toBe(true);
      const list = await call(
        stack,
        stack.apiKey,
        'GET',
        `/v1/batches/${created.json.id}/items?status=expired&limit=1000`,
      );
      expect(list.json.data).toHaveLength(done.counts.expired);
    } finally {
      await setSim({ latencyMs: { min: 150, max: 300 } });
    }
  });
});
