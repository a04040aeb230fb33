/**
 * Tenant isolation on every route that takes an id: the list of routes comes from the app's own
 * OpenAPI document, so a route added later without an entry here fails this file. For each one,
 * another tenant's id answers exactly like an id that does not exist (404 not_found, same body),
 * and the call changes nothing of the owner's resource.
 */
import { DeliveryStore } from '@pixelmill/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  call,
  expectError,
  item,
  type Json,
  MODEL,
  type Reply,
  startTestEnv,
  type TestEnv,
} from './test-support/deps.js';

let env: TestEnv;
/** acme's resources, one per kind of id. */
const owned: Record<Kind, string> = { batch: '', endpoint: '', delivery: '' };
/** Ids of the same shape that exist for nobody. */
const missing: Record<Kind, string> = {
  batch: 'batch_00000000000000000000000000',
  endpoint: 'whep_00000000000000000000000000',
  delivery: 'dlv_00000000000000000000000000',
};

type Kind = 'batch' | 'endpoint' | 'delivery';
/** Which kind of id `{id}` is, by the route's first segment after /v1. */
const kindOf: Record<string, Kind> = {
  batches: 'batch',
  'webhook-endpoints': 'endpoint',
  deliveries: 'delivery',
};
/** A body that would be accepted from the owner, so a 404 cannot come from validation. */
const bodies: Record<string, unknown> = {
  'PATCH /v1/webhook-endpoints/{id}': { enabled: false, description: 'taken over' },
  'POST /v1/webhook-endpoints/{id}/rotate-secret': {},
  'POST /v1/batches/{id}/items/review': { custom_ids: ['a'], action: 'approve' },
  'POST /v1/batches/{id}/items/{item}/review': { action: 'reject', note: 'taken over' },
  'POST /v1/batches/{id}/items/{item}/regenerate': { prompt: 'taken over' },
  'POST /v1/batches/{id}/items/{item}/choose': { version: 1 },
};
/** `{item}` in a path: an item of the owner's batch, by its custom_id. */
const ITEM = 'a';

const PUBLIC_URL = 'https://93.184.215.14/hooks';

beforeAll(async () => {
  env = await startTestEnv();
  await env.redis.ping();
  const batch = await call(env.app, 'POST', '/v1/batches', {
    key: env.acme.key,
    body: { model: MODEL, items: [item('a'), item('b')] },
  });
  expect(batch.status, JSON.stringify(batch.json)).toBe(201);
  owned.batch = batch.json.id;
  const endpoint = await call(env.app, 'POST', '/v1/webhook-endpoints', {
    key: env.acme.key,
    body: { url: PUBLIC_URL },
  });
  expect(endpoint.status, JSON.stringify(endpoint.json)).toBe(201);
  owned.endpoint = endpoint.json.id;
  owned.delivery = 'dlv_isolation0';
  await new DeliveryStore(env.redis, env.prefix).create({
    id: owned.delivery,
    tenantId: env.acme.id,
    batchId: owned.batch,
    endpointId: owned.endpoint,
    eventType: 'batch.completed',
    webhookId: 'msg_isolation0',
    url: PUBLIC_URL,
    body: '{}',
  });
});

afterAll(async () => {
  await env?.close();
});

async function routesWithIds(): Promise<{ method: string; path: string; kind: Kind }[]> {
  const doc = (await call(env.app, 'GET', '/openapi.json')).json;
  const out: { method: string; path: string; kind: Kind }[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    if (!path.includes('{id}')) continue;
    const segment = path.split('/')[2] ?? '';
    const kind = kindOf[segment];
    if (kind === undefined) throw new Error(`${path}: no fixture for ids of /v1/${segment}; add one here`);
    for (const method of Object.keys(ops)) out.push({ method: method.toUpperCase(), path, kind });
  }
  return out;
}

const send = (method: string, path: string, id: string, key: string): Promise<Reply> => {
  const body = bodies[`${method} ${path}`];
  return call(env.app, method, path.replace('{id}', id).replace('{item}', ITEM), {
    key,
    ...(body !== undefined ? { body } : {}),
  });
};

/** What the owner can see of each resource: unchanged by anything another tenant does. */
async function ownerView(): Promise<Json> {
  const get = async (path: string) => (await call(env.app, 'GET', path, { key: env.acme.key })).json;
  const batch = await get(`/v1/batches/${owned.batch}`);
  const endpoint = await get(`/v1/webhook-endpoints/${owned.endpoint}`);
  const delivery = await get(`/v1/deliveries/${owned.delivery}`);
  return {
    batch: { status: batch.status, counts: batch.counts },
    items: (await get(`/v1/batches/${owned.batch}/items`)).data.map((i: Json) => [
      i.custom_id,
      i.status,
      i.review,
      i.version,
      i.chosen,
    ]),
    endpoint,
    delivery: { status: delivery.status, redeliveries: delivery.redeliveries, attempts: delivery.attempts },
  };
}

describe('tenant isolation', () => {
  test('the OpenAPI document lists the routes this file covers', async () => {
    const routes = (await routesWithIds()).map((r) => `${r.method} ${r.path}`);
    // A floor, not the exact list: new routes are covered by the loop below once they have a fixture.
    for (const r of [
      'GET /v1/batches/{id}',
      'POST /v1/batches/{id}/cancel',
      'POST /v1/batches/{id}/retry',
      'GET /v1/batches/{id}/results',
      'GET /v1/batches/{id}/items',
      'GET /v1/batches/{id}/deliveries',
      'GET /v1/webhook-endpoints/{id}',
      'PATCH /v1/webhook-endpoints/{id}',
      'DELETE /v1/webhook-endpoints/{id}',
      'POST /v1/webhook-endpoints/{id}/rotate-secret',
      'GET /v1/webhook-endpoints/{id}/deliveries',
      'GET /v1/deliveries/{id}',
      'POST /v1/deliveries/{id}/redeliver',
      'POST /v1/batches/{id}/items/review',
      'POST /v1/batches/{id}/items/{item}/review',
      'POST /v1/batches/{id}/items/{item}/regenerate',
      'POST /v1/batches/{id}/items/{item}/choose',
    ])
      expect(routes).toContain(r);
  });

  test("every route with an id: another tenant's id is a 404 like a missing id, and changes nothing", async () => {
    const before = await ownerView();
    for (const { method, path, kind } of await routesWithIds()) {
      const what = `${method} ${path}`;
      const theirs = await send(method, path, owned[kind], env.globex.key);
      expectError(theirs, 404, 'not_found');
      const none = await send(method, path, missing[kind], env.globex.key);
      expect(theirs.json, what).toEqual({
        error: { ...none.json.error, message: none.json.error.message.replace(missing[kind], owned[kind]) },
      });
    }
    expect(await ownerView()).toEqual(before);
  });

  test('the same routes answer the owner (so the 404s above are about the tenant)', async () => {
    // Destructive routes last, so each call finds the resource the others left.
    const order = (m: string) => ({ POST: 1, DELETE: 2 })[m] ?? 0;
    const routes = (await routesWithIds()).sort((a, b) => order(a.method) - order(b.method));
    for (const { method, path, kind } of routes) {
      const mine = await send(method, path, owned[kind], env.acme.key);
      expect(mine.status, `${method} ${path}: ${JSON.stringify(mine.json)}`).not.toBe(404);
    }
  });
});
