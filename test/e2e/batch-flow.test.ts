import { createHash } from 'node:crypto';
import type { Item } from '@pixelmill/client';
import { generateWebhookSecret } from '@pixelmill/webhooks';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import { openTestBucket, type TestBucket } from '../support/s3.js';
import { BUCKET, call, type Stack, startStack } from '../support/stack.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let s3: TestBucket;
const secret = generateWebhookSecret();

beforeAll(async () => {
  stack = await startStack({ workers: 2, sim: { latencyMs: { min: 20, max: 120 } } });
  receiver = await startWebhookReceiver(secret);
  s3 = openTestBucket(stack.s3.endpoint, BUCKET);
});

afterAll(async () => {
  s3?.destroy();
  await receiver?.close();
  await stack?.stop();
});

const getObject = (key: string) => s3.getObject(key);

const sizes = ['1K', '2K'] as const;
const aspects = ['1:1', '4:3', '3:4', '16:9', '9:16'] as const;
const longSide = { '1K': 1024, '2K': 2048 } as const;

describe('one batch end to end: API → BullMQ → two workers → S3 → signed webhook', () => {
  test('a 20-item batch with mixed sizes, aspect ratios and n completes in full', async () => {
    const items = Array.from({ length: 20 }, (_, i) => ({
      custom_id: `sku-${1000 + i}-front`,
      prompt: `Studio product shot of sneaker model ${i} on white seamless, soft light`,
      size: sizes[i % 2],
      aspect_ratio: aspects[i % aspects.length],
      n: (i % 2) + 1,
      metadata: { sku: String(1000 + i) },
    }));
    const created = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      items,
      webhook: { url: receiver.url, secret, events: ['batch.completed'] },
      output: { prefix: 'catalog/fall/' },
      metadata: { campaign: 'fall' },
    });
    expect(created.status).toBe(201);
    const batchId: string = created.json.id;
    expect(batchId).toMatch(/^batch_/);
    expect(created.json.counts).toMatchObject({ total: 20, queued: 20 });
    expect(created.json.images.requested).toBe(30);
    expect(created.json.cost.estimated_usd).toBeCloseTo(30 * 0.134, 6);

    const done = await waitFor(
      'the batch to complete',
      async () => {
        const r = await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}`);
        return r.json.status === 'completed' ? r.json : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    expect(done.counts).toEqual({
      total: 20,
      queued: 0,
      running: 0,
      succeeded: 20,
      failed: 0,
      cancelled: 0,
      expired: 0,
    });
    expect(done.images.generated).toBe(30);
    expect(done.cost.actual_usd).toBeCloseTo(30 * 0.134, 6);

    const list = await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}/items?limit=100`);
    expect(list.json.data).toHaveLength(20);
    for (const [i, item] of (list.json.data as Item[]).entries()) {
      const input = items[i]!;
      expect(item.custom_id).toBe(input.custom_id);
      expect(item.status).toBe('succeeded');
      expect(item.outputs).toHaveLength(input.n);
      const [w, h] = input.aspect_ratio!.split(':').map(Number) as [number, number];
      for (const out of item.outputs) {
        expect(out.key).toBe(`acme/catalog/fall/${batchId}/${input.custom_id}/${out.index}.png`);
        const bytes = await getObject(out.key);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(out.sha256);
        expect(bytes.length).toBe(out.bytes);
        const png = PNG.sync.read(bytes);
        expect([png.width, png.height]).toEqual([out.width, out.height]);
        // The long side follows the size tier, the shape follows the aspect ratio.
        expect(Math.max(png.width, png.height)).toBe(longSide[input.size!]);
        expect(Math.abs(png.width / png.height - w / h)).toBeLessThan(0.02);
        const viaUrl = Buffer.from(await (await fetch(out.url!)).arrayBuffer());
        expect(createHash('sha256').update(viaUrl).digest('hex')).toBe(out.sha256);
      }
    }

    const manifest = (await getObject(`acme/catalog/fall/${batchId}/manifest.jsonl`)).toString('utf8');
    const lines = manifest
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.custom_id)).toEqual(items.map((i) => i.custom_id));
    expect(lines.every((l) => l.outputs.every((o: { url?: string }) => o.url === undefined))).toBe(true);
    expect(done.manifest_url).toBeTruthy();
    expect((await fetch(done.manifest_url)).status).toBe(200);

    const completed = await waitFor('the batch.completed webhook', () =>
      receiver.received.length > 0 ? receiver.received : undefined,
    );
    // Give a duplicate a chance to show up before counting: wait until the delivery log says done.
    await waitFor('the delivery to be logged as succeeded', async () => {
      const d = await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}/deliveries`);
      return d.json?.data?.[0]?.status === 'succeeded' ? true : undefined;
    });
    expect(completed).toHaveLength(1);
    expect(receiver.rejected).toBe(0);
    expect(completed[0]?.type).toBe('batch.completed');
    expect(completed[0]?.payload.data).toMatchObject({
      id: batchId,
      status: 'completed',
      counts: { total: 20, succeeded: 20, failed: 0 },
    });
  });

  test('bad input gets the documented status and code, and creates nothing', async () => {
    const ok = { custom_id: 'a', prompt: 'p' };
    const cases: [string | undefined, unknown, number, string, string?][] = [
      [
        stack.apiKey,
        { model: 'gemini-3-pro-image', items: [{ custom_id: 'a' }] },
        400,
        'invalid_request',
        'items[0].prompt',
      ],
      [
        stack.apiKey,
        { model: 'gemini-3-pro-image', items: [ok, ok] },
        400,
        'invalid_request',
        'items[1].custom_id',
      ],
      [
        stack.apiKey,
        { model: 'gemini-3-pro-image', items: [{ ...ok, size: '8K' }] },
        400,
        'invalid_request',
        'items[0].size',
      ],
      [
        stack.apiKey,
        { model: 'gemini-3-pro-image', items: [{ ...ok, size: '512' }] },
        400,
        'invalid_request',
        'items[0].size',
      ],
      [stack.apiKey, { model: 'no-such-model', items: [ok] }, 400, 'unknown_model', 'model'],
      [undefined, { model: 'gemini-3-pro-image', items: [ok] }, 401, 'unauthorized'],
      ['sk_wrong_key_123', { model: 'gemini-3-pro-image', items: [ok] }, 401, 'unauthorized'],
    ];
    const before = await call(stack, stack.apiKey, 'GET', '/v1/batches');
    for (const [key, body, status, code, path] of cases) {
      const r = await call(stack, key, 'POST', '/v1/batches', body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.error.code).toBe(code);
      expect(typeof r.json.error.message).toBe('string');
      if (path) expect(r.json.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    // Every request above was refused whole: the tenant's batch list is unchanged.
    const after = await call(stack, stack.apiKey, 'GET', '/v1/batches');
    const summary = (page: { json: { data: { id: string; status: string }[] } }) =>
      page.json.data.map((b) => [b.id, b.status]);
    expect(summary(after)).toEqual(summary(before));
  });
});
