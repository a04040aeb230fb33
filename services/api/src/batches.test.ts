import type { OpenAPIHono } from '@hono/zod-openapi';
import { itemIdFor } from '@pixelmill/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  allJobs,
  call,
  expectError,
  item,
  type Json,
  keysUnder,
  MODEL,
  type Reply,
  startTestEnv,
  type TestEnv,
  writtenState,
} from './test-support/deps.js';

const FLASH = 'gemini-3.1-flash-image';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
});

afterAll(async () => {
  await env?.close();
});

const post = (
  body: unknown,
  opts: { key?: string; app?: OpenAPIHono; headers?: Record<string, string> } = {},
) =>
  call(opts.app ?? env.app, 'POST', '/v1/batches', {
    key: opts.key ?? env.acme.key,
    body,
    ...(opts.headers ? { headers: opts.headers } : {}),
  });
const get = (path: string, key = env.acme.key) => call(env.app, 'GET', path, { key });

/** Posts a valid batch and returns its 201 body. */
async function accepted(body: unknown, opts: Parameters<typeof post>[1] = {}): Promise<Json> {
  const r = await post(body, opts);
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

const price = (model: string, size: '512' | '1K' | '2K' | '4K'): number => {
  const p = env.registry.resolve(model)?.priceUsd[size];
  if (p === undefined) throw new Error(`no price for ${model} ${size}`);
  return p;
};
const micros = (usd: number) => Math.round(usd * 1e6);

describe('POST /v1/batches accepts a batch', () => {
  test('201 with the documented body; records, tenant list and one job per item', async () => {
    const before = Date.now();
    const r = await post({
      model: 'nano-banana-pro', // an alias: the batch names the canonical id
      defaults: { size: '1K', aspect_ratio: '1:1', n: 1 },
      items: [
        item('sku-1', { size: '2K', aspect_ratio: '4:3', n: 2, metadata: { sku: '1' } }),
        item('sku-2'),
        item('sku-3', { size: '4K', n: 3 }),
      ],
      output: { prefix: 'catalog/fall/', format: 'png' },
      priority: 'high',
      metadata: { campaign: 'fall' },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    const b = r.json;
    expect(b.id).toMatch(/^batch_[0-9a-z]+$/);
    expect(b).toMatchObject({
      object: 'batch',
      status: 'queued',
      model: MODEL,
      counts: { total: 3, queued: 3, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
      images: { requested: 6, generated: 0 },
      cost: {
        estimated_usd:
          (micros(price(MODEL, '2K') * 2) + micros(price(MODEL, '1K')) + micros(price(MODEL, '4K') * 3)) /
          1e6,
        actual_usd: 0,
      },
      completed_at: null,
      manifest_url: null,
      webhook: null,
      output: { prefix: 'catalog/fall/', format: 'png' },
      priority: 'high',
      metadata: { campaign: 'fall' },
    });
    expect(b.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Date.parse(b.created_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(b.created_at)).toBeLessThanOrEqual(Date.now() + 1000);

    // GET answers the same object.
    const got = await get(`/v1/batches/${b.id}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual(b);

    // Redis: visible batch, listed for its tenant, items in submission order.
    expect(await env.redis.hget(env.store.keys.batch(b.id), 'visible')).toBe('1');
    expect(await env.redis.zscore(env.store.keys.tenantBatches('acme'), b.id)).not.toBeNull();
    const itemIds = ['sku-1', 'sku-2', 'sku-3'].map((c) => itemIdFor(b.id, c));
    expect(await env.redis.lrange(env.store.keys.batchItems(b.id), 0, -1)).toEqual(itemIds);

    // The model's generation queue: exactly one job per item, its id the item id.
    const queue = env.queues.generate(MODEL);
    const jobs = (await allJobs(queue)).filter((j) => j.data.batch_id === b.id);
    expect(jobs.map((j) => j.id).sort()).toEqual([...itemIds].sort());
    for (const job of jobs) {
      expect(job.data).toEqual({ batch_id: b.id, item_id: job.id, tenant_id: 'acme' });
      expect(job.opts.attempts).toBe(env.deps.options.itemAttempts);
      // The fair-queue scheduler turns priority into a start tag (a positive BullMQ priority); the
      // ordering it produces is tested in packages/core (src/fair-queue) and test/e2e/ratelimit-fairness.
      expect(job.opts.priority).toBeGreaterThan(0);
    }
    expect(await queue.getJob(itemIds[0] as string)).toBeDefined();

    // Items carry the resolved parameters (own values, else the defaults).
    const items = await get(`/v1/batches/${b.id}/items`);
    expect(items.status).toBe(200);
    expect(items.json.next_cursor).toBeNull();
    expect(items.json.data.map((i: Json) => [i.custom_id, i.size, i.aspect_ratio, i.n])).toEqual([
      ['sku-1', '2K', '4:3', 2],
      ['sku-2', '1K', '1:1', 1],
      ['sku-3', '4K', '1:1', 3],
    ]);
    expect(items.json.data[0]).toMatchObject({
      id: itemIds[0],
      object: 'item',
      batch_id: b.id,
      status: 'queued',
      attempts: 0,
      model: MODEL,
      provider: null,
      outputs: [],
      error: null,
      cost_usd: 0,
      started_at: null,
      finished_at: null,
      metadata: { sku: '1' },
    });
  });

  test('a webhook without a secret gets a whsec_ secret, returned once in the 201', async () => {
    const app = env.appWith({ allowPrivateWebhooks: true });
    const url = 'http://127.0.0.1:9/hooks/pixelmill';
    const b = await accepted({ model: MODEL, items: [item('a')], webhook: { url } }, { app });
    expect(b.webhook).toEqual({
      url,
      events: ['batch.completed'],
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/),
    });
    // Kept for signing, never shown again.
    expect((await env.store.getBatchInternal(b.id))?.spec.webhook?.secret).toBe(b.webhook.secret);
    const got = await get(`/v1/batches/${b.id}`);
    expect(got.json.webhook).toEqual({ url, events: ['batch.completed'] });
    const list = await get('/v1/batches');
    expect(list.json.data.find((x: Json) => x.id === b.id).webhook).toEqual({
      url,
      events: ['batch.completed'],
    });
  });

  test('a secret the client sent is never echoed', async () => {
    const app = env.appWith({ allowPrivateWebhooks: true });
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const url = 'http://127.0.0.1:9/hook';
    const b = await accepted(
      {
        model: MODEL,
        items: [item('a')],
        webhook: { url, secret, events: ['item.failed', 'batch.completed'] },
      },
      { app },
    );
    expect(b.webhook).toEqual({ url, events: ['item.failed', 'batch.completed'] });
    expect((await env.store.getBatchInternal(b.id))?.spec.webhook?.secret).toBe(secret);
  });

  test('application/json with a charset is accepted', async () => {
    const r = await post(JSON.stringify({ model: MODEL, items: [item('a')] }), {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(r.status).toBe(201);
  });

  test("the tenant's list is newest first, paged with a cursor", async () => {
    const first = await accepted({ model: MODEL, items: [item('a')] });
    const second = await accepted({ model: FLASH, items: [item('a', { size: '512' })] });
    const page1 = await get('/v1/batches?limit=1');
    expect(page1.status).toBe(200);
    expect(page1.json.data.map((x: Json) => x.id)).toEqual([second.id]);
    expect(page1.json.data[0].model).toBe(FLASH);
    expect(page1.json.next_cursor).toEqual(expect.any(String));
    const page2 = await get(`/v1/batches?limit=1&cursor=${encodeURIComponent(page1.json.next_cursor)}`);
    expect(page2.json.data.map((x: Json) => x.id)).toEqual([first.id]);
    for (const bad of ['!!!', 'abc', Buffer.from('batch_X').toString('base64url')]) {
      const r = await get(`/v1/batches?cursor=${encodeURIComponent(bad)}`);
      expect(expectError(r, 400, 'invalid_request').map((d) => d.path)).toEqual(['cursor']);
    }
    const all = await get('/v1/batches?limit=1000');
    const ids: string[] = all.json.data.map((x: Json) => x.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(all.json.next_cursor).toBeNull();
  });
});

describe('GET /v1/batches/{id}/items', () => {
  let batchId: string;
  const customIds = ['c0', 'c1', 'c2', 'c3', 'c4'];
  const itemId = (c: string) => itemIdFor(batchId, c);
  const page = (query: string) => get(`/v1/batches/${batchId}/items${query}`);

  beforeAll(async () => {
    batchId = (await accepted({ model: MODEL, items: customIds.map((c) => item(c)) })).id;
  });

  test('pages of 2 over 5 items in submission order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const r: Reply = await page(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      sizes.push(r.json.data.length);
      seen.push(...r.json.data.map((i: Json) => i.custom_id));
      cursor = r.json.next_cursor;
    } while (cursor !== null);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(customIds);
  });

  test.each([
    ['not base64 of a number', 'abc'],
    ['decodes to nothing', '!!!'],
    ['a negative position', Buffer.from('-1').toString('base64url')],
    ['a fraction', Buffer.from('1.5').toString('base64url')],
    ['hex', Buffer.from('0x2').toString('base64url')],
  ])('a bad cursor (%s) is a 400 naming cursor', async (_, cursor) => {
    const r = await page(`?limit=2&cursor=${encodeURIComponent(cursor)}`);
    expect(expectError(r, 400, 'invalid_request').map((d) => d.path)).toEqual(['cursor']);
  });

  test('bad limit and status are 400s naming the parameter', async () => {
    expect(expectError(await page('?limit=0'), 400, 'invalid_request').map((d) => d.path)).toEqual(['limit']);
    expect(expectError(await page('?status=done'), 400, 'invalid_request').map((d) => d.path)).toEqual([
      'status',
    ]);
  });

  test('the status filter, with paging, after items change state', async () => {
    // Move items the way a worker does, through the store's scripts.
    expect((await env.store.startItem(batchId, itemId('c1'))).state).toBe('started');
    expect((await env.store.startItem(batchId, itemId('c3'))).state).toBe('started');
    const ended = await env.store.endItem(batchId, itemId('c3'), {
      status: 'succeeded',
      costMicros: 134_000,
      images: 1,
      provider: 'gemini',
    });
    expect(ended).toEqual({ ended: true, last: false });

    const ids = (r: Reply) => r.json.data.map((i: Json) => i.custom_id);
    expect(ids(await page('?status=succeeded'))).toEqual(['c3']);
    expect(ids(await page('?status=running'))).toEqual(['c1']);
    expect(ids(await page('?status=failed'))).toEqual([]);
    const q1 = await page('?status=queued&limit=2');
    expect(ids(q1)).toEqual(['c0', 'c2']);
    const q2 = await page(`?status=queued&limit=2&cursor=${encodeURIComponent(q1.json.next_cursor)}`);
    expect(ids(q2)).toEqual(['c4']);
    expect(q2.json.next_cursor).toBeNull();

    const b = await get(`/v1/batches/${batchId}`);
    expect(b.json).toMatchObject({
      status: 'running',
      counts: { total: 5, queued: 3, running: 1, succeeded: 1, failed: 0, cancelled: 0 },
      images: { requested: 5, generated: 1 },
      cost: { actual_usd: 0.134 },
    });
  });
});

describe('paging while items change state', () => {
  const ids = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
  const ended = { status: 'succeeded' as const, costMicros: 0, images: 1, provider: 'gemini' };

  test('the full list shows every item once, in order, whatever ends between pages', async () => {
    const batchId = (await accepted({ model: MODEL, items: ids.map((c) => item(c)) })).id;
    const itemId = (c: string) => itemIdFor(batchId, c);
    const page = (cursor: string | null) =>
      get(`/v1/batches/${batchId}/items?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const r: Reply = await page(cursor);
      seen.push(...r.json.data.map((i: Json) => `${i.custom_id}:${i.status}`));
      cursor = r.json.next_cursor;
      // Between pages a worker ends one item already listed and one not listed yet.
      const behind = ids[round * 2] as string;
      const ahead = ids[round * 2 + 3];
      for (const c of [behind, ahead]) {
        if (c === undefined) continue;
        await env.store.startItem(batchId, itemId(c));
        await env.store.endItem(batchId, itemId(c), ended);
      }
      round += 1;
    } while (cursor !== null);
    expect(seen.map((s) => s.split(':')[0])).toEqual(ids);
    // Items ahead of the cursor are shown as they are when their page is read.
    expect(seen).toEqual([
      'p0:queued',
      'p1:queued',
      'p2:queued',
      'p3:succeeded',
      'p4:queued',
      'p5:succeeded',
    ]);
  });

  test('a status filter never repeats an item; items ahead appear or not as their state is then', async () => {
    const batchId = (await accepted({ model: MODEL, items: ids.map((c) => item(c)) })).id;
    const itemId = (c: string) => itemIdFor(batchId, c);
    const queued = (cursor: string | null) =>
      get(
        `/v1/batches/${batchId}/items?status=queued&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
    const first = await queued(null);
    expect(first.json.data.map((i: Json) => i.custom_id)).toEqual(['p0', 'p1']);
    // p0 (listed) starts and goes back to queued; p2 (not listed yet) starts running.
    await env.store.startItem(batchId, itemId('p0'));
    await env.store.requeueItem(batchId, itemId('p0'), {
      code: 'provider_error',
      message: '503',
      retryable: true,
    });
    await env.store.startItem(batchId, itemId('p2'));
    const rest: string[] = [];
    let cursor: string | null = first.json.next_cursor;
    while (cursor !== null) {
      const r: Reply = await queued(cursor);
      rest.push(...r.json.data.map((i: Json) => i.custom_id));
      cursor = r.json.next_cursor;
    }
    expect(rest).toEqual(['p3', 'p4', 'p5']);
  });
});

describe('an invalid batch is refused whole, with nothing written', () => {
  // Keys under the tenant's root: URLs would need DNS at submission.
  const refs = (n: number) => Array.from({ length: n }, (_, i) => `acme/refs/ref-${i}.png`);

  /** Posts, checks the error, and checks that no batch, item, job or list entry appeared. */
  async function refused(
    body: unknown,
    status: number,
    code: string,
    opts: Parameters<typeof post>[1] = {},
  ): Promise<string[]> {
    const before = await writtenState(env, env.acme, [MODEL, FLASH]);
    const keysBefore = await keysUnder(env.redis, env.prefix);
    const listBefore = await get('/v1/batches?limit=1000');
    const details = expectError(await post(body, opts), status, code);
    expect(await writtenState(env, env.acme, [MODEL, FLASH])).toEqual(before);
    // Not a single new key, except the meta hash BullMQ writes when a queue is first opened.
    const keysAfter = await keysUnder(env.redis, env.prefix);
    expect(keysAfter.filter((k) => !keysBefore.includes(k) && !k.endsWith(':meta'))).toEqual([]);
    expect(keysBefore.filter((k) => !keysAfter.includes(k))).toEqual([]);
    expect((await get('/v1/batches?limit=1000')).json).toEqual(listBefore.json);
    return details.map((d) => d.path);
  }
  const invalid = (body: unknown) => refused(body, 400, 'invalid_request');

  test('a missing prompt', async () => {
    expect(await invalid({ model: MODEL, items: [{ custom_id: 'a' }] })).toEqual(['items[0].prompt']);
  });

  test('a blank prompt', async () => {
    expect(await invalid({ model: MODEL, items: [item('a'), item('b', { prompt: '   ' })] })).toEqual([
      'items[1].prompt',
    ]);
  });

  test('a duplicate custom_id names the second one and the first', async () => {
    const r = await post({ model: MODEL, items: [item('a'), item('a'), item('b')] });
    const details = expectError(r, 400, 'invalid_request');
    expect(details).toEqual([{ path: 'items[1].custom_id', message: expect.stringContaining('items[0]') }]);
    expect(await invalid({ model: MODEL, items: [item('a'), item('a')] })).toEqual(['items[1].custom_id']);
  });

  test('a size the model cannot do, named where it came from', async () => {
    expect(await invalid({ model: MODEL, items: [item('a', { size: '512' })] })).toEqual(['items[0].size']);
    // Three items take the bad default: one problem, named once.
    expect(
      await invalid({
        model: MODEL,
        defaults: { size: '512' },
        items: [item('a'), item('b', { size: '2K' }), item('c')],
      }),
    ).toEqual(['defaults.size']);
    // A size that is no size at all.
    expect(await invalid({ model: MODEL, items: [item('a', { size: '3K' })] })).toEqual(['items[0].size']);
  });

  test('a bad aspect ratio', async () => {
    expect(await invalid({ model: MODEL, items: [item('a', { aspect_ratio: '4x3' })] })).toEqual([
      'items[0].aspect_ratio',
    ]);
    expect(await invalid({ model: MODEL, items: [item('a', { aspect_ratio: '7:3' })] })).toEqual([
      'items[0].aspect_ratio',
    ]);
    // 8:1 exists, but only on flash.
    expect(await invalid({ model: MODEL, defaults: { aspect_ratio: '8:1' }, items: [item('a')] })).toEqual([
      'defaults.aspect_ratio',
    ]);
  });

  test('n out of 1..10', async () => {
    expect(await invalid({ model: MODEL, items: [item('a', { n: 11 })] })).toEqual(['items[0].n']);
    expect(await invalid({ model: MODEL, items: [item('a', { n: 0 })] })).toEqual(['items[0].n']);
    expect(await invalid({ model: MODEL, defaults: { n: 11 }, items: [item('a')] })).toEqual(['defaults.n']);
  });

  test('too many reference images, for the model and for any model', async () => {
    const max = env.registry.resolve(MODEL)?.maxReferenceImages ?? 0;
    expect(
      await invalid({ model: MODEL, items: [item('a'), item('b', { reference_images: refs(max + 1) })] }),
    ).toEqual(['items[1].reference_images']);
    expect(await invalid({ model: MODEL, items: [item('a', { reference_images: refs(17) })] })).toEqual([
      'items[0].reference_images',
    ]);
  });

  test('unknown fields, at the top level and in an item', async () => {
    expect(await invalid({ model: MODEL, items: [item('a')], colour: 'red' })).toEqual(['colour']);
    expect(await invalid({ model: MODEL, items: [{ custom_id: 'a', promt: 'typo' }] })).toEqual([
      'items[0].prompt',
      'items[0].promt',
    ]);
  });

  test('no items, or items that are not a list', async () => {
    expect(await invalid({ model: MODEL, items: [] })).toEqual(['items']);
    expect(await invalid({ model: MODEL })).toEqual(['items']);
    expect(await invalid({ model: MODEL, items: 'a' })).toEqual(['items']);
    expect(await invalid([])).toEqual(['(body)']);
  });

  test('every problem at once', async () => {
    const paths = await invalid({
      model: MODEL,
      items: [{ custom_id: 'a' }, item('b', { n: 0 }), item('b', { size: 'huge' })],
    });
    expect(paths.sort()).toEqual(['items[0].prompt', 'items[1].n', 'items[2].custom_id', 'items[2].size']);
  });

  test('malformed JSON', async () => {
    const json = { headers: { 'content-type': 'application/json' } };
    expect(await refused('{"model": "x", "items": [', 400, 'invalid_request', json)).toEqual(['(body)']);
    expect(await refused('', 400, 'invalid_request', json)).toEqual(['(body)']);
  });

  test('a body that is not JSON is a 415', async () => {
    const body = JSON.stringify({ model: MODEL, items: [item('a')] });
    await refused(body, 415, 'unsupported_media_type', { headers: { 'content-type': 'text/plain' } });
    await refused(body, 415, 'unsupported_media_type', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await refused(body, 415, 'unsupported_media_type');
  });

  test('an unknown model is unknown_model at path model', async () => {
    expect(await refused({ model: 'dall-e-9', items: [item('a')] }, 400, 'unknown_model')).toEqual(['model']);
  });

  test('a model whose provider has no key is model_unavailable', async () => {
    expect(await refused({ model: 'gpt-image-2', items: [item('a')] }, 400, 'model_unavailable')).toEqual([
      'model',
    ]);
  });

  test('a body over maxBodyBytes is a 413, declared or not', async () => {
    const app = env.appWith({ maxBodyBytes: 2000 });
    const body = JSON.stringify({ model: MODEL, items: [item('a', { prompt: 'x'.repeat(3000) })] });
    await refused(body, 413, 'payload_too_large', { app, headers: { 'content-type': 'application/json' } });
    await refused(body, 413, 'payload_too_large', {
      app,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    });
    // The same batch fits a bigger limit.
    expect((await post(JSON.parse(body), { app: env.appWith({ maxBodyBytes: 10_000 }) })).status).toBe(201);
  });

  test('more items than maxItemsPerBatch is a 413', async () => {
    const app = env.appWith({ maxItemsPerBatch: 3 });
    const items = ['a', 'b', 'c', 'd'].map((c) => item(c));
    await refused({ model: MODEL, items }, 413, 'payload_too_large', { app });
    expect((await post({ model: MODEL, items: items.slice(0, 3) }, { app })).status).toBe(201);
  });

  test('a webhook URL to a loopback address is refused unless private webhooks are allowed', async () => {
    const body = { model: MODEL, items: [item('a')], webhook: { url: 'http://127.0.0.1:8080/hook' } };
    expect(await invalid(body)).toEqual(['webhook.url']);
    expect(await invalid({ ...body, webhook: { url: 'http://[::1]/hook' } })).toEqual(['webhook.url']);
    expect(await invalid({ ...body, webhook: { url: 'http://169.254.169.254/latest' } })).toEqual([
      'webhook.url',
    ]);
    expect(await invalid({ ...body, webhook: { url: 'ftp://example.com/hook' } })).toEqual(['webhook.url']);
    const b = await accepted(body, { app: env.appWith({ allowPrivateWebhooks: true }) });
    expect(b.webhook.url).toBe('http://127.0.0.1:8080/hook');
  });

  test('a malformed webhook secret', async () => {
    const app = env.appWith({ allowPrivateWebhooks: true });
    const body = {
      model: MODEL,
      items: [item('a')],
      webhook: { url: 'http://127.0.0.1/h', secret: 'hunter2' },
    };
    expect(await refused(body, 400, 'invalid_request', { app })).toEqual(['webhook.secret']);
  });
});
