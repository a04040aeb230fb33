import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, expectError, type Json, MODEL, startTestEnv, type TestEnv } from './test-support/deps.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
});

afterAll(async () => {
  await env?.close();
});

describe('GET /v1/models', () => {
  test('lists the registry with ids, aliases, sizes and prices', async () => {
    const r = await call(env.app, 'GET', '/v1/models', { key: env.acme.key });
    expect(r.status).toBe(200);
    expect(r.json.object).toBe('list');
    const byId = new Map<string, Json>(r.json.data.map((m: Json) => [m.id, m]));
    expect([...byId.keys()].sort()).toEqual(['gemini-3-pro-image', 'gemini-3.1-flash-image', 'gpt-image-2']);
    const pro = byId.get(MODEL);
    const spec = env.registry.resolve(MODEL);
    expect(pro).toMatchObject({
      id: MODEL,
      provider: 'gemini',
      available: true,
      sizes: ['1K', '2K', '4K'],
      aspect_ratios: spec?.aspectRatios,
      max_reference_images: spec?.maxReferenceImages,
      price_usd: { '1K': 0.134, '2K': 0.134, '4K': 0.24 },
      limits: { rpm: 600, concurrency: 8 },
    });
    expect(pro.aliases).toContain('nano-banana-pro');
    expect(byId.get('gemini-3.1-flash-image')?.sizes).toContain('512');
    expect(byId.get('gpt-image-2')?.available).toBe(false);
    for (const m of byId.values()) {
      expect(m).toEqual(
        expect.objectContaining({
          id: expect.any(String),
          aliases: expect.any(Array),
          sizes: expect.any(Array),
          price_usd: expect.any(Object),
        }),
      );
    }
  });
});

describe('documents and fallbacks', () => {
  test('GET /openapi.json is an OpenAPI document with the batch routes', async () => {
    const r = await call(env.app, 'GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.json.openapi).toMatch(/^3\./);
    expect(Object.keys(r.json.paths)).toEqual(
      expect.arrayContaining(['/v1/batches', '/v1/batches/{id}', '/v1/batches/{id}/items', '/v1/models']),
    );
    expect(r.json.paths['/v1/batches'].post).toBeDefined();
    expect(r.json.paths['/v1/batches'].get).toBeDefined();
  });

  test('an unknown route is a 404 in the error shape', async () => {
    expectError(await call(env.app, 'GET', '/nope'), 404, 'not_found');
    expectError(await call(env.app, 'GET', '/v1/nope', { key: env.acme.key }), 404, 'not_found');
    expectError(await call(env.app, 'DELETE', '/v1/models', { key: env.acme.key }), 404, 'not_found');
  });

  test('every response carries a request id, echoing the one sent', async () => {
    expect((await call(env.app, 'GET', '/healthz')).headers.get('x-request-id')).toMatch(/^req_/);
    const r = await call(env.app, 'GET', '/healthz', { headers: { 'x-request-id': 'req_mine' } });
    expect(r.headers.get('x-request-id')).toBe('req_mine');
  });
});

describe('health', () => {
  test('/healthz is 200', async () => {
    expect(await call(env.app, 'GET', '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
  });

  test('/readyz is 200 with Redis and the bucket ok', async () => {
    const r = await call(env.app, 'GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: 'ready', checks: { redis: 'ok', bucket: 'ok' } });
  });

  test('/readyz is 503 once the bucket is gone', async () => {
    const other = await startTestEnv();
    try {
      expect((await call(other.app, 'GET', '/readyz')).status).toBe(200);
      await other.stopS3();
      const r = await call(other.app, 'GET', '/readyz');
      expect(r.status).toBe(503);
      expect(r.json).toEqual({
        status: 'unavailable',
        checks: { redis: 'ok', bucket: expect.stringMatching(/^error: /) },
      });
      // /healthz only says the process is up.
      expect((await call(other.app, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
