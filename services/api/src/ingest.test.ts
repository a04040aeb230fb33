/**
 * Streaming ingest (NDJSON and CSV), templates, per-item models, limits and Idempotency-Key, on the
 * in-process app over real Redis. Every refusal is checked to leave nothing behind.
 */
import { itemIdFor } from '@pixelmill/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  allJobs,
  call,
  dataKeys,
  expectError,
  type Json,
  MODEL,
  startTestEnv,
  type TestEnv,
  writtenState,
} from './test-support/deps.js';

const FLASH = 'gemini-3.1-flash-image';
let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv({ options: { maxItemsPerBatch: 20_000, maxBodyBytes: 5_000_000 } });
  await env.redis.ping();
});

afterAll(async () => {
  await env?.close();
});

const ndjson = (header: unknown, items: unknown[]): string =>
  `${[header, ...items].map((l) => JSON.stringify(l)).join('\n')}\n`;

const postRaw = (
  body: string,
  type: string,
  opts: { query?: string; headers?: Record<string, string>; app?: typeof env.app } = {},
) =>
  call(opts.app ?? env.app, 'POST', `/v1/batches${opts.query ?? ''}`, {
    key: env.acme.key,
    body,
    headers: { 'content-type': type, ...opts.headers },
  });

async function expectNothingWritten<T>(action: () => Promise<T>): Promise<T> {
  const before = await writtenState(env, env.acme, [MODEL, FLASH]);
  const result = await action();
  expect(await writtenState(env, env.acme, [MODEL, FLASH])).toEqual(before);
  return result;
}

async function listAll(batchId: string, status?: string): Promise<Json[]> {
  const out: Json[] = [];
  let cursor: string | null = null;
  do {
    const q = `limit=1000${status ? `&status=${status}` : ''}${cursor ? `&cursor=${cursor}` : ''}`;
    const r = await call(env.app, 'GET', `/v1/batches/${batchId}/items?${q}`, { key: env.acme.key });
    expect(r.status).toBe(200);
    out.push(...r.json.data);
    cursor = r.json.next_cursor;
  } while (cursor);
  return out;
}

describe('NDJSON', () => {
  test('2,500 lines (three chunks) are accepted in order; the first PIXELMILL_FEED_HIGH_WATER are jobs', async () => {
    const items = Array.from({ length: 2500 }, (_, i) => ({ custom_id: `sku-${i}`, prompt: `shoe ${i}` }));
    const r = await postRaw(
      ndjson({ model: MODEL, defaults: { size: '2K' } }, items),
      'application/x-ndjson',
    );
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.counts).toMatchObject({ total: 2500, queued: 2500, expired: 0 });
    expect(r.json.images.requested).toBe(2500);
    const listed = await listAll(r.json.id);
    expect(listed.map((i) => i.custom_id)).toEqual(items.map((i) => i.custom_id));
    expect(listed[0]).toMatchObject({ size: '2K', prompt: 'shoe 0' });
    const jobs = (await allJobs(env.queues.generate(MODEL))).filter((j) => j.data.batch_id === r.json.id);
    expect(jobs.map((j) => j.data.item_id).sort()).toEqual(
      listed
        .slice(0, env.deps.options.feedHighWater)
        .map((i) => i.id)
        .sort(),
    );
  });

  test('one bad line at the end of a large body: 400 naming it, and nothing is left behind', async () => {
    const items: unknown[] = Array.from({ length: 5000 }, (_, i) => ({
      custom_id: `c-${i}`,
      prompt: `p ${i}`,
    }));
    items.push({ custom_id: 'last' });
    const r = await expectNothingWritten(() =>
      postRaw(ndjson({ model: MODEL }, items), 'application/x-ndjson'),
    );
    expect(expectError(r, 400, 'invalid_request')).toEqual([
      { path: 'line 5002: prompt', message: 'Required' },
    ]);
    // The ingest's duplicate-check hash and the invisible batch are gone too.
    expect((await dataKeys(env)).filter((k) => k.includes('ingest-ids'))).toEqual([]);
  });

  test('a duplicate custom_id chunks apart names both lines; malformed JSON names its line', async () => {
    const items: unknown[] = Array.from({ length: 1500 }, (_, i) => ({ custom_id: `d-${i}`, prompt: 'p' }));
    items.push({ custom_id: 'd-3', prompt: 'again' });
    const r = await expectNothingWritten(() =>
      postRaw(ndjson({ model: MODEL }, items), 'application/x-ndjson'),
    );
    expect(expectError(r, 400, 'invalid_request')).toEqual([
      { path: 'line 1502: custom_id', message: 'Duplicate custom_id (also used by line 5: custom_id)' },
    ]);
    const bad = `${JSON.stringify({ model: MODEL })}\n{"custom_id": "a", "prompt": "p"}\n{"custom_id": \n`;
    const r2 = await expectNothingWritten(() => postRaw(bad, 'application/x-ndjson'));
    expect(expectError(r2, 400, 'invalid_request').map((d) => d.path)).toEqual(['line 3']);
  });

  test('past 100 problems the rest of an NDJSON body is read but not validated, and nothing is written', async () => {
    const lines = [
      JSON.stringify({ model: MODEL }),
      ...Array.from({ length: 400 }, (_, i) => `{"custom_id":"bad-${i}"${' '.repeat(1000)}}`),
    ];
    const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`);
    const sent = { bytes: 0 };
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (sent.bytes >= bytes.byteLength) return controller.close();
          const chunk = bytes.subarray(sent.bytes, sent.bytes + 512);
          sent.bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
      },
      { highWaterMark: 0 },
    );
    const r = await expectNothingWritten(async () => {
      const res = await env.app.request('http://api.test/v1/batches', {
        method: 'POST',
        headers: { authorization: `Bearer ${env.acme.key}`, 'content-type': 'application/x-ndjson' },
        body,
        duplex: 'half',
      } as RequestInit);
      return { status: res.status, headers: res.headers, json: (await res.json()) as Json };
    });
    const problems = expectError(r, 400, 'invalid_request');
    expect(problems).toHaveLength(100);
    expect(problems[0]).toEqual({ path: 'line 2: prompt', message: expect.any(String) });
    // The upload is read to its end (not cut off mid-send), though only the first 100 problems count.
    expect(sent.bytes).toBe(bytes.byteLength);
  });

  test('header problems name line 1; an unknown model is unknown_model', async () => {
    const unknown = await postRaw(
      ndjson({ model: 'nope' }, [{ custom_id: 'a', prompt: 'p' }]),
      'application/x-ndjson',
    );
    expect(expectError(unknown, 400, 'unknown_model')).toEqual([
      { path: 'line 1: model', message: 'Unknown model' },
    ]);
    const items = await postRaw(
      ndjson({ model: MODEL, items: [] }, [{ custom_id: 'a', prompt: 'p' }]),
      'application/x-ndjson',
    );
    expect(expectError(items, 400, 'invalid_request').map((d) => d.path)).toEqual(['line 1: items']);
    const empty = await postRaw(ndjson({ model: MODEL }, []), 'application/x-ndjson');
    expect(expectError(empty, 400, 'invalid_request')).toEqual([
      { path: 'line 2', message: 'A batch needs at least one item' },
    ]);
  });

  test('per-item models go to their own queues; an unknown item model is named', async () => {
    const r = await postRaw(
      ndjson({ model: MODEL }, [
        { custom_id: 'pro', prompt: 'p' },
        { custom_id: 'flash', prompt: 'p', model: FLASH },
      ]),
      'application/x-ndjson',
    );
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    const flashJobs = (await allJobs(env.queues.generate(FLASH))).filter(
      (j) => j.data.batch_id === r.json.id,
    );
    expect(flashJobs.map((j) => j.id)).toEqual([itemIdFor(r.json.id, 'flash')]);
    const listed = await listAll(r.json.id);
    expect(listed.map((i) => i.model)).toEqual([MODEL, FLASH]);
    expect(r.json.cost.estimated_usd).toBeCloseTo(
      (env.registry.resolve(MODEL)?.priceUsd['1K'] ?? 0) + (env.registry.resolve(FLASH)?.priceUsd['1K'] ?? 0),
      6,
    );

    const bad = await expectNothingWritten(() =>
      postRaw(
        ndjson({ model: MODEL }, [
          { custom_id: 'a', prompt: 'p' },
          { custom_id: 'b', prompt: 'p', model: 'nope' },
        ]),
        'application/x-ndjson',
      ),
    );
    expect(expectError(bad, 400, 'invalid_request')).toEqual([
      { path: 'line 3: model', message: 'Unknown model "nope"; see GET /v1/models' },
    ]);
  });

  test('more items than PIXELMILL_MAX_ITEMS_PER_BATCH, or more bytes than PIXELMILL_MAX_BODY_BYTES: 413 while streaming', async () => {
    const small = env.appWith({ maxItemsPerBatch: 1200 });
    const items = Array.from({ length: 1300 }, (_, i) => ({ custom_id: `m-${i}`, prompt: 'p' }));
    const r = await expectNothingWritten(() =>
      postRaw(ndjson({ model: MODEL }, items), 'application/x-ndjson', { app: small }),
    );
    expect(expectError(r, 413, 'payload_too_large')).toEqual([
      { path: 'line 1202', message: 'Item 1201 is past the limit of 1200 items' },
    ]);
    expect(r.json.error.message).toContain('PIXELMILL_MAX_ITEMS_PER_BATCH');

    const tiny = env.appWith({ maxBodyBytes: 50_000 });
    const big = ndjson(
      { model: MODEL },
      Array.from({ length: 2000 }, (_, i) => ({ custom_id: `b-${i}`, prompt: 'x'.repeat(40) })),
    );
    // Sent as a stream without a length, so the limit is found while reading.
    const res = await expectNothingWritten(async () =>
      tiny.request('http://api.test/v1/batches', {
        method: 'POST',
        headers: { authorization: `Bearer ${env.acme.key}`, 'content-type': 'application/x-ndjson' },
        body: new Blob([big]).stream(),
        duplex: 'half',
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    const json = (await res.json()) as Json;
    expect(json.error.code).toBe('payload_too_large');
    expect(json.error.message).toContain('PIXELMILL_MAX_BODY_BYTES');
  });
});

describe('CSV', () => {
  test('extra columns fill the prompt template; options come from the query', async () => {
    const csv = [
      'custom_id,title,background,n,metadata.sku',
      'sku-1,Red sneaker,white seamless,2,1001',
      '"sku-2","Blue ""runner"" shoe",grey concrete,,1002',
    ].join('\r\n');
    const template = encodeURIComponent('Studio photo of {{title}} on {{background}}, soft light');
    const r = await postRaw(csv, 'text/csv', {
      query: `?model=${MODEL}&prompt_template=${template}&size=2K&output_prefix=cat/&metadata.campaign=fall`,
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({
      counts: { total: 2 },
      images: { requested: 3 },
      output: { prefix: 'cat/' },
      metadata: { campaign: 'fall' },
    });
    const listed = await listAll(r.json.id);
    expect(listed.map((i) => [i.custom_id, i.prompt, i.n, i.size, i.metadata])).toEqual([
      ['sku-1', 'Studio photo of Red sneaker on white seamless, soft light', 2, '2K', { sku: '1001' }],
      ['sku-2', 'Studio photo of Blue "runner" shoe on grey concrete, soft light', 1, '2K', { sku: '1002' }],
    ]);
  });

  test('a missing template variable, a bad cell and an unknown option name line and column', async () => {
    const template = encodeURIComponent('Photo of {{title}} on {{background}}');
    const csv = 'custom_id,title,background,size\na,Shoe,white,1K\nb,,white,1K\nc,Hat,white,9K\n';
    const r = await expectNothingWritten(() =>
      postRaw(csv, 'text/csv', { query: `?model=${MODEL}&prompt_template=${template}` }),
    );
    expect(expectError(r, 400, 'invalid_request')).toEqual([
      { path: 'line 3: title', message: 'Missing template variable "title"' },
      { path: 'line 4: size', message: expect.any(String) },
    ]);
    const opt = await postRaw('custom_id,prompt\na,p\n', 'text/csv', {
      query: `?model=${MODEL}&colour=red&size=9K`,
    });
    expect(
      expectError(opt, 400, 'invalid_request')
        .map((d) => d.path)
        .sort(),
    ).toEqual(['query.colour', 'query.size']);
    const noId = await postRaw('sku,prompt\na,p\n', 'text/csv', { query: `?model=${MODEL}` });
    expect(expectError(noId, 400, 'invalid_request').map((d) => d.message)).toEqual([
      'The header row needs a custom_id column',
    ]);
    const ragged = await expectNothingWritten(() =>
      postRaw('custom_id,prompt\na,p\nb,p,extra\n', 'text/csv', { query: `?model=${MODEL}` }),
    );
    expect(expectError(ragged, 400, 'invalid_request').map((d) => d.path)).toEqual(['line 3']);
  });
});

describe('templates and output keys in JSON', () => {
  test('a missing variable names items[i].vars.<name>', async () => {
    const r = await expectNothingWritten(() =>
      call(env.app, 'POST', '/v1/batches', {
        key: env.acme.key,
        body: {
          model: MODEL,
          prompt_template: 'Photo of {{title}}',
          items: [
            { custom_id: 'a', vars: { title: 'Shoe' } },
            { custom_id: 'b', vars: { colour: 'red' } },
            { custom_id: 'c', prompt: 'own prompt wins' },
          ],
        },
      }),
    );
    expect(expectError(r, 400, 'invalid_request')).toEqual([
      { path: 'items[1].vars.title', message: 'Missing template variable "title"' },
    ]);
  });

  test('key templates are checked at submission', async () => {
    const post = (output: unknown, n = 1) =>
      call(env.app, 'POST', '/v1/batches', {
        key: env.acme.key,
        body: { model: MODEL, output, items: [{ custom_id: 'a', prompt: 'p', n }] },
      });
    const unknown = await post({ key_template: '{prefix}{sku}/{index}.{ext}' });
    expect(expectError(unknown, 400, 'invalid_request').map((d) => d.path)).toEqual([
      'output.key_template',
      'output.key_template',
    ]);
    const noIndex = await post({ key_template: 'products/{custom_id}.{ext}' }, 2);
    expect(expectError(noIndex, 400, 'invalid_request')).toEqual([
      {
        path: 'items[0].n',
        message: 'output.key_template has no {index}, so an item can have only one image',
      },
    ]);
    const ok = await post({ key_template: 'products/{custom_id}.{ext}', format: 'webp' });
    expect(ok.status).toBe(201);
    expect(ok.json.output).toEqual({
      prefix: '',
      format: 'webp',
      key_template: 'products/{custom_id}.{ext}',
      root: 'acme/',
    });
  });
});

describe('Idempotency-Key', () => {
  // A local receiver URL (never called here): private webhooks allowed, no DNS needed.
  const body = {
    model: MODEL,
    items: [{ custom_id: 'a', prompt: 'p' }],
    webhook: { url: 'http://127.0.0.1:9/h' },
  };
  const app = () => env.appWith({ allowPrivateWebhooks: true });
  const send = (key: string, b: unknown = body) =>
    call(app(), 'POST', '/v1/batches', { key: env.acme.key, body: b, headers: { 'idempotency-key': key } });

  test('the same key and body give the same batch; another body is 409', async () => {
    const first = await send('k-1');
    expect(first.status).toBe(201);
    const again = await send('k-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    expect(again.json.webhook.secret).toMatch(/^whsec_/);
    const other = await send('k-1', { ...body, metadata: { x: 'y' } });
    expectError(other, 409, 'idempotency_conflict');
    // Another tenant's same key is another key.
    const globex = await call(app(), 'POST', '/v1/batches', {
      key: env.globex.key,
      body,
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(globex.status).toBe(201);
    expect(globex.json.id).not.toBe(first.json.id);
  });

  test('concurrent duplicates create one batch', async () => {
    const replies = await Promise.all(Array.from({ length: 5 }, () => send('k-concurrent')));
    expect(replies.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(replies.map((r) => r.json.id)).size).toBe(1);
  });

  test('a refused request frees its key', async () => {
    const bad = await send('k-bad', { model: MODEL, items: [{ custom_id: 'a' }] });
    expectError(bad, 400, 'invalid_request');
    expect((await send('k-bad')).status).toBe(201);
  });
});
