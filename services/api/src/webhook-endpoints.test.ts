import { DeliveryStore } from '@pixelmill/core';
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

beforeAll(async () => {
  // allowPrivateWebhooks is false here: the SSRF guard is on, as in production.
  env = await startTestEnv();
  // Connected before the first request (the API answers 503 while Redis is not ready).
  await env.redis.ping();
});

afterAll(async () => {
  await env?.close();
});

const PUBLIC_URL = 'https://93.184.215.14/hooks';
const SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=';

const req = (method: string, path: string, body?: unknown, key = env.acme.key) =>
  call(env.app, method, path, { key, ...(body !== undefined ? { body } : {}) });

async function created(body: Record<string, unknown> = {}): Promise<Json> {
  const r = await req('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, ...body });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

describe('webhook endpoints', () => {
  test('create returns the secret once, with documented defaults; reads never show it', async () => {
    const e = await created({ description: 'orders' });
    expect(e).toMatchObject({
      object: 'webhook_endpoint',
      id: expect.stringMatching(/^whep_[0-9a-z]+$/),
      url: PUBLIC_URL,
      description: 'orders',
      events: ['batch.completed', 'batch.cancelled'],
      item_group_max_items: 100,
      item_group_max_wait_s: 10,
      enabled: true,
      disabled_reason: null,
      failing_since: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const got = await req('GET', `/v1/webhook-endpoints/${e.id}`);
    expect(got.status).toBe(200);
    expect(got.json.secret).toBeUndefined();
    const list = await req('GET', '/v1/webhook-endpoints');
    expect(list.json.data.map((x: Json) => x.id)).toContain(e.id);
    expect(JSON.stringify(list.json)).not.toContain('whsec_');
  });

  test('a secret of the caller’s own is kept', async () => {
    const e = await created({ secret: SECRET });
    expect(e.secret).toBe(SECRET);
  });

  test('bad input is a 400 naming every bad field, and creates nothing', async () => {
    const before = (await req('GET', '/v1/webhook-endpoints?limit=1000')).json.data.length;
    const r = await req('POST', '/v1/webhook-endpoints', {
      url: 'ftp://example.com',
      events: ['batch.exploded'],
      item_events: 'sometimes',
      item_group_max_items: 0,
      item_group_max_wait_s: 99999,
      secret: 'hunter2',
      colour: 'blue',
    });
    const paths = expectError(r, 400, 'invalid_request').map((d) => d.path);
    for (const p of [
      'url',
      'events[0]',
      'item_events',
      'item_group_max_items',
      'item_group_max_wait_s',
      'secret',
      'colour',
    ])
      expect(paths).toContain(p);
    expectError(await req('POST', '/v1/webhook-endpoints', {}), 400, 'invalid_request');
    expect((await req('GET', '/v1/webhook-endpoints?limit=1000')).json.data.length).toBe(before);
  });

  test('rate_limit: kept on create, changed and removed by PATCH; out of range is a 400 naming it; a batch webhook takes it but no operational events', async () => {
    const e = await created({
      rate_limit: 20,
      events: ['batch.completed', 'message.attempt.exhausted', 'endpoint.disabled'],
    });
    expect(e).toMatchObject({
      rate_limit: 20,
      events: ['batch.completed', 'message.attempt.exhausted', 'endpoint.disabled'],
    });
    expect((await req('PATCH', `/v1/webhook-endpoints/${e.id}`, { rate_limit: 5 })).json.rate_limit).toBe(5);
    expect(
      (await req('PATCH', `/v1/webhook-endpoints/${e.id}`, { rate_limit: null })).json.rate_limit,
    ).toBeNull();
    expect((await created()).rate_limit).toBeNull();
    for (const bad of [0, -1, 2.5, 1001, '10']) {
      const before = (await req('GET', '/v1/webhook-endpoints?limit=1000')).json.data.length;
      const r = await req('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, rate_limit: bad });
      expect(expectError(r, 400, 'invalid_request').map((d) => d.path)).toEqual(['rate_limit']);
      expect((await req('GET', '/v1/webhook-endpoints?limit=1000')).json.data.length).toBe(before);
      const p = await req('PATCH', `/v1/webhook-endpoints/${e.id}`, { rate_limit: bad });
      expect(expectError(p, 400, 'invalid_request').map((d) => d.path)).toEqual(['rate_limit']);
    }
    const url = PUBLIC_URL;
    const bad = await req('POST', '/v1/batches', {
      model: MODEL,
      items: [item('a')],
      webhook: { url, rate_limit: 0, events: ['message.attempt.exhausted'] },
    });
    expect(
      expectError(bad, 400, 'invalid_request')
        .map((d) => d.path)
        .sort(),
    ).toEqual(['webhook.events[0]', 'webhook.rate_limit']);
    const ok = await req('POST', '/v1/batches', {
      model: MODEL,
      items: [item('a')],
      webhook: { url, rate_limit: 3 },
    });
    expect(ok.status, JSON.stringify(ok.json)).toBe(201);
    expect((await env.store.getBatchInternal(ok.json.id))?.spec.webhook?.rate_limit).toBe(3);
  });

  test.each([
    ['loopback', 'http://127.0.0.1:8080/hooks'],
    ['private 10/8', 'http://10.1.2.3/hooks'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['a name that resolves to loopback', 'http://localhost:9000/hooks'],
    ['IPv6 loopback', 'http://[::1]/hooks'],
  ])('refuses a URL that reaches %s, on create, on update and for a batch webhook', async (_, url) => {
    expect(expectError(await req('POST', '/v1/webhook-endpoints', { url }), 400, 'invalid_request')).toEqual([
      { path: 'url', message: expect.stringMatching(/only public addresses|resolves to/) },
    ]);
    const e = await created();
    expectError(await req('PATCH', `/v1/webhook-endpoints/${e.id}`, { url }), 400, 'invalid_request');
    expect((await req('GET', `/v1/webhook-endpoints/${e.id}`)).json.url).toBe(PUBLIC_URL);
    const batch = await req('POST', '/v1/batches', { model: MODEL, items: [item('a')], webhook: { url } });
    expect(expectError(batch, 400, 'invalid_request').map((d) => d.path)).toContain('webhook.url');
  });

  test('update changes only what it is given; enabled: false is a manual disable', async () => {
    const e = await created();
    const r = await req('PATCH', `/v1/webhook-endpoints/${e.id}`, {
      events: ['item.failed'],
      item_events: 'each',
      enabled: false,
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      url: PUBLIC_URL,
      events: ['item.failed'],
      enabled: false,
      disabled_reason: 'manual',
    });
    expect(r.json.secret).toBeUndefined();
    expectError(await req('PATCH', `/v1/webhook-endpoints/${e.id}`, {}), 400, 'invalid_request');
    expectError(
      await req('PATCH', `/v1/webhook-endpoints/${e.id}`, { enabled: 'yes' }),
      400,
      'invalid_request',
    );
  });

  test('events is the subscription: items.completed subscribable; item_events only an input alias', async () => {
    const each = await created({ events: ['item.succeeded', 'item.failed', 'items.completed'] });
    expect(each.events).toEqual(['item.succeeded', 'item.failed', 'items.completed']);
    expect(each.item_events).toBeUndefined();
    // `grouped` turns the item types sent with it into items.completed; `each` changes nothing.
    const grouped = await created({
      events: ['batch.completed', 'item.succeeded', 'item.failed'],
      item_events: 'grouped',
    });
    expect(grouped.events).toEqual(['batch.completed', 'items.completed']);
    const kept = await created({ events: ['item.failed'], item_events: 'each' });
    expect(kept.events).toEqual(['item.failed']);
    // On update without events it applies to the stored ones.
    const r = await req('PATCH', `/v1/webhook-endpoints/${kept.id}`, { item_events: 'grouped' });
    expect(r.json.events).toEqual(['items.completed']);
    expect((await req('GET', `/v1/webhook-endpoints/${kept.id}`)).json).toMatchObject({
      events: ['items.completed'],
    });
    // A batch webhook's events follow the same rule.
    const batch = await req('POST', '/v1/batches', {
      model: MODEL,
      items: [item('alias')],
      webhook: { url: PUBLIC_URL, events: ['item.succeeded', 'batch.completed'], item_events: 'grouped' },
    });
    expect(batch.status, JSON.stringify(batch.json)).toBe(201);
    const spec = await env.deps.store.getBatchInternal(batch.json.id);
    expect(spec?.spec.webhook?.events).toEqual(['items.completed', 'batch.completed']);
  });

  test('rotate-secret returns the new secret once and keeps the old one signing for 24 h', async () => {
    const e = await created({ secret: SECRET });
    const r = await req('POST', `/v1/webhook-endpoints/${e.id}/rotate-secret`);
    expect(r.status).toBe(200);
    expect(r.json.secret).toMatch(/^whsec_/);
    expect(r.json.secret).not.toBe(SECRET);
    const overlap = Date.parse(r.json.previous_secret_expires_at) - Date.now();
    expect(overlap).toBeGreaterThan(23.9 * 3600 * 1000);
    expect(overlap).toBeLessThanOrEqual(24 * 3600 * 1000);
    expectError(
      await req('POST', `/v1/webhook-endpoints/${e.id}/rotate-secret`, { secret: 'nope' }),
      400,
      'invalid_request',
    );
  });

  test('another tenant’s endpoint is 404 on every route', async () => {
    const e = await created();
    const other = env.globex.key;
    for (const [method, path, body] of [
      ['GET', `/v1/webhook-endpoints/${e.id}`],
      ['PATCH', `/v1/webhook-endpoints/${e.id}`, { enabled: false }],
      ['DELETE', `/v1/webhook-endpoints/${e.id}`],
      ['POST', `/v1/webhook-endpoints/${e.id}/rotate-secret`],
      ['GET', `/v1/webhook-endpoints/${e.id}/deliveries`],
    ] as [string, string, unknown?][]) {
      expectError(await req(method, path, body, other), 404, 'not_found');
    }
    expect((await req('GET', '/v1/webhook-endpoints', undefined, other)).json.data).toEqual([]);
    expect((await req('GET', `/v1/webhook-endpoints/${e.id}`)).json.enabled).toBe(true);
  });

  test('delete removes it; its id is then 404', async () => {
    const e = await created();
    expect((await req('DELETE', `/v1/webhook-endpoints/${e.id}`)).status).toBe(204);
    expectError(await req('GET', `/v1/webhook-endpoints/${e.id}`), 404, 'not_found');
    expectError(await req('DELETE', `/v1/webhook-endpoints/${e.id}`), 404, 'not_found');
  });

  test('a malformed list cursor is a 400 on cursor', async () => {
    expect(expectError(await req('GET', '/v1/webhook-endpoints?cursor=zzz'), 400, 'invalid_request')).toEqual(
      [{ path: 'cursor', message: 'Invalid cursor' }],
    );
  });
});

describe('delivery log routes', () => {
  test('batch deliveries page with a cursor; other tenants get 404; redeliver needs an ended delivery', async () => {
    const batch = await req('POST', '/v1/batches', { model: MODEL, items: [item('a')] });
    expect(batch.status).toBe(201);
    const batchId = batch.json.id;
    const deliveries = new DeliveryStore(env.redis, env.prefix);
    for (let i = 0; i < 3; i++) {
      await deliveries.create({
        id: `dlv_test${i}`,
        tenantId: 'acme',
        batchId,
        endpointId: null,
        eventType: 'batch.completed',
        webhookId: `msg_test${i}`,
        url: PUBLIC_URL,
        body: '{}',
      });
    }
    const first = await req('GET', `/v1/batches/${batchId}/deliveries?limit=2`);
    expect(first.json.data.map((d: Json) => d.id)).toEqual(['dlv_test0', 'dlv_test1']);
    const rest = await req(
      'GET',
      `/v1/batches/${batchId}/deliveries?limit=2&cursor=${first.json.next_cursor}`,
    );
    expect(rest.json).toMatchObject({ data: [{ id: 'dlv_test2' }], next_cursor: null });
    expect(rest.json.data[0]).toMatchObject({
      object: 'delivery',
      endpoint_id: null,
      status: 'pending',
      attempts: [],
      failure_reason: null,
      redeliveries: 0,
    });
    expect(rest.json.data[0].body).toBeUndefined();
    expectError(await req('GET', `/v1/batches/${batchId}/deliveries?cursor=%%%`), 400, 'invalid_request');
    expectError(
      await req('GET', `/v1/batches/${batchId}/deliveries`, undefined, env.globex.key),
      404,
      'not_found',
    );
    expectError(await req('GET', '/v1/deliveries/dlv_test0', undefined, env.globex.key), 404, 'not_found');
    expectError(
      await req('POST', '/v1/deliveries/dlv_test0/redeliver', undefined, env.globex.key),
      404,
      'not_found',
    );
    expectError(await req('POST', '/v1/deliveries/dlv_nope/redeliver'), 404, 'not_found');

    // Pending: redeliver brings the running series forward instead of starting another.
    const pending = await req('POST', '/v1/deliveries/dlv_test0/redeliver');
    expect(pending.status).toBe(202);
    expect(pending.json).toMatchObject({ status: 'pending', redeliveries: 0 });

    await deliveries.finish('dlv_test1', 'exhausted');
    const again = await req('POST', '/v1/deliveries/dlv_test1/redeliver');
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ status: 'pending', redeliveries: 1, failure_reason: null });
    // The new series' first attempt is due now, for any worker's delivery pump.
    expect(await deliveries.dueAt('dlv_test1')).toBeLessThanOrEqual(Date.now());
  });
});
