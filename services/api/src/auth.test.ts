import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  call,
  expectError,
  item,
  type Json,
  MODEL,
  startTestEnv,
  type TestEnv,
} from './test-support/deps.js';

let env: TestEnv;
let acmeBatch: string;
let globexBatch: string;

beforeAll(async () => {
  env = await startTestEnv();
  const make = async (key: string) => {
    const r = await call(env.app, 'POST', '/v1/batches', {
      key,
      body: { model: MODEL, items: [item('a'), item('b')] },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    return r.json.id as string;
  };
  acmeBatch = await make(env.acme.key);
  globexBatch = await make(env.globex.key);
});

afterAll(async () => {
  await env?.close();
});

const raw = (path: string, headers: Record<string, string>, method = 'GET') =>
  call(env.app, method, path, { headers });

describe('API keys', () => {
  const routes = [
    ['GET', '/v1/batches'],
    ['GET', '/v1/models'],
    ['POST', '/v1/batches'],
    ['GET', '/v1/batches/batch_x/items'],
    ['GET', '/v1/nowhere'],
  ] as const;

  test.each(routes)('%s %s without a key is 401 unauthorized', async (method, path) => {
    const details = expectError(await raw(path, {}, method), 401, 'unauthorized');
    expect(details).toEqual([]);
  });

  test.each(routes)('%s %s with a wrong key is 401 unauthorized', async (method, path) => {
    expectError(await raw(path, { authorization: `Bearer ${env.acme.key}x` }, method), 401, 'unauthorized');
  });

  test.each([
    ['a Basic header', () => `Basic ${Buffer.from(`acme:${env.acme.key}`).toString('base64')}`],
    ['the bare key', () => env.acme.key],
    ['Bearer and nothing', () => 'Bearer'],
    ['Bearer and a space', () => 'Bearer '],
    ['two tokens', () => `Bearer ${env.acme.key} ${env.acme.key}`],
    ['another scheme', () => `Token ${env.acme.key}`],
    ['the tenant id as key', () => 'Bearer acme'],
  ])('a malformed header (%s) is 401 unauthorized', async (_, header) => {
    expectError(await raw('/v1/batches', { authorization: header() }), 401, 'unauthorized');
  });

  test('an unauthorized POST writes nothing', async () => {
    const before = await env.redis.zrange(env.store.keys.tenantBatches('acme'), '0', '-1');
    const r = await call(env.app, 'POST', '/v1/batches', {
      key: 'sk_wrong',
      body: { model: MODEL, items: [item('a')] },
    });
    expectError(r, 401, 'unauthorized');
    expect(await env.redis.zrange(env.store.keys.tenantBatches('acme'), '0', '-1')).toEqual(before);
  });

  test('the scheme is case-insensitive', async () => {
    expect((await raw('/v1/batches', { authorization: `bearer ${env.acme.key}` })).status).toBe(200);
    expect((await raw('/v1/batches', { authorization: `BEARER ${env.acme.key}` })).status).toBe(200);
  });

  test('/healthz, /readyz and /openapi.json need no key', async () => {
    expect(await raw('/healthz', {})).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect((await raw('/readyz', {})).status).toBe(200);
    expect((await raw('/openapi.json', {})).status).toBe(200);
  });
});

describe('tenants', () => {
  test.each([
    ['the batch', (id: string) => `/v1/batches/${id}`],
    ['its items', (id: string) => `/v1/batches/${id}/items`],
    ['its deliveries', (id: string) => `/v1/batches/${id}/deliveries`],
  ])("another tenant's batch id: %s is 404 not_found, never 403", async (_, path) => {
    expect((await call(env.app, 'GET', path(acmeBatch), { key: env.acme.key })).status).toBe(200);
    expectError(await call(env.app, 'GET', path(acmeBatch), { key: env.globex.key }), 404, 'not_found');
    expect((await call(env.app, 'GET', path(globexBatch), { key: env.globex.key })).status).toBe(200);
    expectError(await call(env.app, 'GET', path(globexBatch), { key: env.acme.key }), 404, 'not_found');
  });

  test("another tenant's batch answers exactly like a batch that does not exist", async () => {
    const theirs = await call(env.app, 'GET', `/v1/batches/${globexBatch}`, { key: env.acme.key });
    const none = await call(env.app, 'GET', '/v1/batches/batch_00000000000000000000000000', {
      key: env.acme.key,
    });
    expect(theirs.status).toBe(404);
    expect(theirs.json).toEqual(none.json);
  });

  test("a tenant's list never shows another tenant's batches", async () => {
    const ids = async (key: string) =>
      ((await call(env.app, 'GET', '/v1/batches?limit=1000', { key })).json.data as Json[]).map((b) => b.id);
    expect(await ids(env.acme.key)).toEqual([acmeBatch]);
    expect(await ids(env.globex.key)).toEqual([globexBatch]);
  });

  test("a tenant's own deliveries list is empty before any webhook", async () => {
    const r = await call(env.app, 'GET', `/v1/batches/${acmeBatch}/deliveries`, { key: env.acme.key });
    expect(r.json).toEqual({ object: 'list', data: [], next_cursor: null });
  });
});
