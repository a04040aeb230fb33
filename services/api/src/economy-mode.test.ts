import { economyJobId, itemIdFor } from '@pixelmill/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { allJobs, call, expectError, item, MODEL, startTestEnv, type TestEnv } from './test-support/deps.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv({ options: { economyJobSize: 2 } });
});

afterAll(async () => {
  await env?.close();
});

const post = (body: unknown, opts: { type?: string; query?: string } = {}) =>
  call(env.app, 'POST', `/v1/batches${opts.query ?? ''}`, {
    key: env.acme.key,
    body,
    ...(opts.type ? { headers: { 'content-type': opts.type } } : {}),
  });

describe('mode on a batch', () => {
  test('economy: items packed per model into economy jobs, none on the model queue, estimate at batch price', async () => {
    const r = await post({
      model: MODEL,
      mode: 'economy',
      defaults: { size: '2K' },
      items: [item('a'), item('b'), item('c', { n: 2 })],
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.mode).toBe('economy');
    const spec = env.registry.resolve(MODEL)!;
    expect(r.json.cost.estimated_usd).toBeCloseTo(4 * (spec.batchPriceUsd['2K'] ?? 0), 6);
    const batchId = r.json.id as string;
    const jobs = (await allJobs(env.queues.economy)).filter((j) => j.data.batch_id === batchId);
    expect(jobs.map((j) => [j.id, j.data.item_ids.length]).sort()).toEqual([
      [economyJobId(batchId, 0), 2],
      [economyJobId(batchId, 1), 1],
    ]);
    const generate = (await allJobs(env.queues.generate(MODEL))).filter((j) => j.data.batch_id === batchId);
    expect(generate).toHaveLength(0);
    const items = await call(env.app, 'GET', `/v1/batches/${batchId}/items`, { key: env.acme.key });
    expect(items.json.data.map((i: { lane: string }) => i.lane)).toEqual(['economy', 'economy', 'economy']);
    expect(items.json.data[0].id).toBe(itemIdFor(batchId, 'a'));
  });

  test('realtime is the default and economy works from an NDJSON header and a CSV query', async () => {
    const plain = await post({ model: MODEL, items: [item('a')] });
    expect(plain.json.mode).toBe('realtime');
    const ndjson = await post(
      `${JSON.stringify({ model: MODEL, mode: 'economy' })}\n${JSON.stringify(item('a'))}\n`,
      { type: 'application/x-ndjson' },
    );
    expect(ndjson.status, JSON.stringify(ndjson.json)).toBe(201);
    expect(ndjson.json.mode).toBe('economy');
    const csv = await post('custom_id,prompt\na,p\n', {
      type: 'text/csv',
      query: `?model=${MODEL}&mode=economy`,
    });
    expect(csv.status, JSON.stringify(csv.json)).toBe(201);
    expect(csv.json.mode).toBe('economy');
    const badCsv = await post('custom_id,prompt\na,p\n', {
      type: 'text/csv',
      query: `?model=${MODEL}&mode=cheap`,
    });
    expect(expectError(badCsv, 400, 'invalid_request').map((d) => d.path)).toEqual(['query.mode']);
  });

  // A model without a lane (openai-chat) is refused naming `mode` / `items[i].model`: test/e2e/economy.test.ts.
  test('economy takes items with reference images, packed apart from the items without', async () => {
    const r = await post({
      model: MODEL,
      mode: 'economy',
      items: [item('a'), item('b', { reference_images: ['acme/ref.png'] }), item('c')],
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    const jobs = (await allJobs(env.queues.economy)).filter((j) => j.data.batch_id === r.json.id);
    const ids = (...customIds: string[]) => customIds.map((c) => itemIdFor(r.json.id, c));
    expect(jobs.map((j) => j.data.item_ids).sort((x, y) => y.length - x.length)).toEqual([
      ids('a', 'c'),
      ids('b'),
    ]);
  });

  test('auto: items start in the economy lane where their model has one, with references too', async () => {
    const r = await post({
      model: MODEL,
      mode: 'auto',
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      items: [item('a'), item('b', { reference_images: ['acme/ref.png'] })],
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.mode).toBe('auto');
    const items = await call(env.app, 'GET', `/v1/batches/${r.json.id}/items`, { key: env.acme.key });
    expect(items.json.data.map((i: { lane: string }) => i.lane)).toEqual(['economy', 'economy']);
    const jobs = (await allJobs(env.queues.economy)).filter((j) => j.data.batch_id === r.json.id);
    expect(jobs).toHaveLength(2);
  });

  test('retry runs failed economy items on the realtime lane', async () => {
    // Two items, one failed: the batch is still open (no finalize under way).
    const r = await post({ model: MODEL, mode: 'economy', items: [item('a'), item('b')] });
    const batchId = r.json.id as string;
    const itemId = itemIdFor(batchId, 'a');
    const error = { code: 'content_blocked' as const, message: 'blocked', retryable: false };
    expect(
      (await env.store.endItem(batchId, itemId, { status: 'failed', error, costMicros: 0, images: 0 })).ended,
    ).toBe(true);
    const retry = await call(env.app, 'POST', `/v1/batches/${batchId}/retry`, { key: env.acme.key });
    expect(retry.status, JSON.stringify(retry.json)).toBe(200);
    expect((await env.store.getItem(itemId))?.lane).toBe('realtime');
    const generate = (await allJobs(env.queues.generate(MODEL))).filter((j) => j.data.item_id === itemId);
    expect(generate).toHaveLength(1);
  });

  test('GET /v1/models shows which models have an economy lane and their batch prices', async () => {
    const r = await call(env.app, 'GET', '/v1/models', { key: env.acme.key });
    const pro = r.json.data.find((m: { id: string }) => m.id === MODEL);
    expect(pro).toMatchObject({ economy: true, batch_price_usd: { '1K': 0.067, '2K': 0.067, '4K': 0.12 } });
    for (const m of r.json.data) if (m.kind === 'openai-chat') expect(m.economy).toBe(false);
  });
});
