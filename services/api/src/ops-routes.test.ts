import { type BatchStore, DeliveryStore } from '@pixelmill/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from './app.js';
import { call, item, MODEL, startTestEnv, type TestEnv } from './test-support/deps.js';

let env: TestEnv;
let batchId: string;
const adminKey = 'admin-key-for-tests-0123456789';

beforeAll(async () => {
  env = await startTestEnv();
  const r = await call(env.app, 'POST', '/v1/batches', {
    key: env.acme.key,
    body: { model: MODEL, items: [item('a'), item('b')] },
  });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  batchId = r.json.id;
});

afterAll(async () => {
  await env?.close();
});

const line = (text: string, prefix: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(prefix))
      ?.slice(prefix.length + 1) ?? Number.NaN,
  );

describe('GET /metrics', () => {
  test('Prometheus text with queue depths, items by state, batches by status and requests by route', async () => {
    const app = createApp(env.deps);
    await call(app, 'GET', `/v1/batches/${batchId}`, { key: env.acme.key });
    const res = await app.request('http://api.test/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    // Waiting jobs are in `wait` or, with a priority, in `prioritized`.
    const waiting = ['wait', 'prioritized'].map((s) =>
      line(text, `pixelmill_queue_jobs{queue="generate-${MODEL}",state="${s}"}`),
    );
    expect(waiting[0]! + waiting[1]!).toBe(2);
    expect(line(text, 'pixelmill_queue_jobs{queue="finalize",state="active"}')).toBe(0);
    // The two items' jobs were added moments ago; nothing waits on finalize.
    const age = line(text, `pixelmill_queue_oldest_waiting_seconds{queue="generate-${MODEL}"}`);
    expect(age).toBeGreaterThan(0);
    expect(age).toBeLessThan(600);
    expect(line(text, 'pixelmill_queue_oldest_waiting_seconds{queue="finalize"}')).toBe(0);
    expect(line(text, 'pixelmill_items{state="queued"}')).toBe(2);
    expect(line(text, 'pixelmill_batches{status="queued"}')).toBe(1);
    // Routes are labelled by pattern, never by id.
    expect(text).toContain('route="/v1/batches/:id",status="200"');
    expect(text).not.toContain(batchId);
    expect(text).not.toContain(env.acme.key);
  });
});

describe('webhook delivery gauges', () => {
  test('deliveries by state (due, scheduled, sending) and how long the oldest due one has waited', async () => {
    const deliveries = new DeliveryStore(env.deps.redis, env.deps.queues.prefix);
    for (const n of [1, 2, 3])
      await deliveries.create({
        id: `dlv_gauge${n}`,
        tenantId: 'acme',
        batchId,
        endpointId: null,
        eventType: 'batch.completed',
        webhookId: `msg_gauge${n}`,
        url: 'https://example.com/h',
        body: '{}',
      });
    const claimed = await deliveries.claim(Date.now(), 60_000, 2);
    await deliveries.defer(claimed.deliveries[0]?.id ?? '', Date.now() + 60_000);
    const text = await (await env.app.request('http://api.test/metrics')).text();
    expect(line(text, 'pixelmill_webhook_deliveries{state="due"}')).toBe(1);
    expect(line(text, 'pixelmill_webhook_deliveries{state="scheduled"}')).toBe(1);
    expect(line(text, 'pixelmill_webhook_deliveries{state="sending"}')).toBe(1);
    const oldest = line(text, 'pixelmill_webhook_oldest_due_seconds');
    expect(oldest).toBeGreaterThanOrEqual(0);
    expect(oldest).toBeLessThan(600);
  });
});

describe('GET /docs', () => {
  test('a page that renders /openapi.json, with no external assets', async () => {
    const res = await env.app.request('http://api.test/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("fetch('/openapi.json')");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  });
});

describe('/admin/queues', () => {
  test('does not exist without PIXELMILL_ADMIN_KEY', async () => {
    expect((await env.app.request('http://api.test/admin/queues')).status).toBe(404);
  });

  test('needs the admin key as bearer or as the basic-auth password (a tenant key is not enough)', async () => {
    const app = createApp({ ...env.deps, adminKey });
    const get = (authorization?: string) =>
      app.request('http://api.test/admin/queues/api/queues', {
        headers: authorization ? { authorization } : {},
      });
    const none = await get();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    for (const wrong of [`Bearer ${env.acme.key}`, `Bearer ${adminKey}x`, 'Bearer', 'Basic !!!']) {
      expect((await get(wrong)).status, wrong).toBe(401);
    }
    const bearer = await get(`Bearer ${adminKey}`);
    expect(bearer.status).toBe(200);
    const names = ((await bearer.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining([`generate-${MODEL}`, 'finalize', 'deliver']));
    const basic = await get(`Basic ${Buffer.from(`ops:${adminKey}`).toString('base64')}`);
    expect(basic.status).toBe(200);
    const page = await app.request('http://api.test/admin/queues', {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
  });
});

describe('/admin/queues refuses writes from other sites', () => {
  const basic = `Basic ${Buffer.from(`ops:${adminKey}`).toString('base64')}`;
  const pause = (app: ReturnType<typeof createApp>, headers: Record<string, string>) =>
    app.request('http://api.test/admin/queues/api/queues/finalize/pause', {
      method: 'PUT',
      headers: { authorization: basic, ...headers },
    });

  test('cross-site, same-site or another Origin: 403 in the error shape, the queue untouched', async () => {
    const app = createApp({ ...env.deps, adminKey });
    const refused: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://evil.api.test' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' },
    ];
    for (const headers of refused) {
      const res = await pause(app, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(await res.json()).toEqual({
        error: { code: 'forbidden', message: expect.any(String), details: [] },
      });
    }
    for (const method of ['POST', 'PATCH', 'DELETE']) {
      const res = await app.request('http://api.test/admin/queues/api/queues/finalize/clean/failed', {
        method,
        headers: { authorization: basic, 'sec-fetch-site': 'cross-site' },
      });
      expect(res.status, method).toBe(403);
    }
    expect(await env.queues.finalize.isPaused()).toBe(false);
  });

  test('same-origin writes, scripts without browser headers and cross-site reads still work', async () => {
    const app = createApp({ ...env.deps, adminKey });
    try {
      const same = await pause(app, { 'sec-fetch-site': 'same-origin', origin: 'http://api.test' });
      expect(same.status).toBe(200);
      expect(await env.queues.finalize.isPaused()).toBe(true);
      // Behind a TLS proxy the browser's Origin is the forwarded one.
      const proxied = await app.request('http://api.test/admin/queues/api/queues/finalize/resume', {
        method: 'PUT',
        headers: {
          authorization: basic,
          origin: 'https://ops.example',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'ops.example',
        },
      });
      expect(proxied.status).toBe(200);
      expect(await env.queues.finalize.isPaused()).toBe(false);
      expect((await pause(app, {})).status).toBe(200);
      const read = await app.request('http://api.test/admin/queues/api/queues', {
        headers: { authorization: basic, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      });
      expect(read.status).toBe(200);
    } finally {
      await env.queues.finalize.resume();
    }
  });
});

describe('Redis unavailable', () => {
  test('API routes answer 503 at once while the connection is not ready; /healthz stays 200', async () => {
    const away = Object.create(env.redis, { status: { value: 'reconnecting' } });
    const app = createApp({ ...env.deps, redis: away });
    for (const [method, path] of [
      ['GET', `/v1/batches/${batchId}`],
      ['POST', '/v1/batches'],
    ] as const) {
      const res = await app.request(`http://api.test${path}`, {
        method,
        headers: { authorization: `Bearer ${env.acme.key}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify({ model: MODEL, items: [item('c')] }) } : {}),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');
    }
    expect((await app.request('http://api.test/healthz')).status).toBe(200);
  });

  test('a request that loses Redis half-way answers 503, not 500', async () => {
    const store = Object.create(env.store) as BatchStore;
    store.getBatch = async () => {
      throw new Error('Connection is closed.');
    };
    const app = createApp({ ...env.deps, store });
    const r = await call(app, 'GET', `/v1/batches/${batchId}`, { key: env.acme.key });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('service_unavailable');
  });
});
