import { randomUUID } from 'node:crypto';
import { QuotaStore, type TenantLimits } from '@pixelmill/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from './app.js';
import type { TenantQuotas } from './batches/tenant-quota.js';
import {
  allJobs,
  call,
  dataKeys,
  expectError,
  item,
  type Json,
  MODEL,
  type Reply,
  startTestEnv,
  type Tenant,
  type TestEnv,
} from './test-support/deps.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
});

afterAll(async () => {
  await env?.close();
});

const none: TenantLimits = { maxOpenBatches: 0, maxQueuedItems: 0, itemsPerMinute: 0 };

/** An app with these quotas and two tenants of its own (fresh ids: each test starts from zero). */
function quotaApp(
  defaults: Partial<TenantLimits>,
  opts: { overrides?: (a: Tenant, b: Tenant) => TenantQuotas['overrides']; windowMs?: number } = {},
) {
  const a = { id: `qa-${randomUUID().slice(0, 8)}`, key: `sk_test_${randomUUID()}` };
  const b = { id: `qb-${randomUUID().slice(0, 8)}`, key: `sk_test_${randomUUID()}` };
  const quotas: TenantQuotas = {
    store: new QuotaStore(env.redis, env.prefix, opts.windowMs),
    defaults: { ...none, ...defaults },
    overrides: opts.overrides?.(a, b) ?? {},
  };
  const app = createApp({
    ...env.deps,
    apiKeys: [
      { tenantId: a.id, key: a.key },
      { tenantId: b.id, key: b.key },
    ],
    quotas,
  });
  let n = 0;
  /** A JSON batch of `items` items. */
  const submit = (tenant: Tenant, items: number): Promise<Reply> => {
    n += 1;
    return call(app, 'POST', '/v1/batches', {
      key: tenant.key,
      body: { model: MODEL, items: Array.from({ length: items }, (_, i) => item(`s${n}-${i}`)) },
    });
  };
  /** The same as NDJSON (its count is known only at the end of the stream). */
  const stream = (tenant: Tenant, items: number): Promise<Reply> => {
    n += 1;
    const lines = [{ model: MODEL }, ...Array.from({ length: items }, (_, i) => item(`s${n}-${i}`))];
    return call(app, 'POST', '/v1/batches', {
      key: tenant.key,
      body: `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`,
      headers: { 'content-type': 'application/x-ndjson' },
    });
  };
  return { app, a, b, quotas, submit, stream };
}

async function accepted(r: Promise<Reply>): Promise<Json> {
  const reply = await r;
  expect(reply.status, JSON.stringify(reply.json)).toBe(201);
  return reply.json;
}

/** Everything a submission could write: data keys (quota keys included), jobs, the tenant's batch list. */
async function state(tenant: Tenant) {
  return {
    keys: await dataKeys(env),
    jobs: (await allJobs(env.queues.generate(MODEL))).length,
    batches: await env.redis.zrange(env.store.keys.tenantBatches(tenant.id), '0', '-1'),
  };
}

/** The refusal: 429 tenant_quota_exceeded with Retry-After, and nothing written. */
async function refused(tenant: Tenant, action: () => Promise<Reply>, quota: string, limit: number) {
  const before = await state(tenant);
  const r = await action();
  expectError(r, 429, 'tenant_quota_exceeded');
  expect(r.json.error.message).toContain(quota);
  expect(r.json.error.message).toContain(`at most ${limit} `);
  const retryAfter = Number(r.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  expect(await state(tenant)).toEqual(before);
  return { reply: r, retryAfter };
}

/** What a worker does to finish a batch: each item runs and ends, then the finalize's last write. */
async function runToCompletion(batchId: string): Promise<void> {
  for await (const ids of env.store.itemIds(batchId)) {
    for (const id of ids) {
      await env.store.startItem(batchId, id);
      await env.store.endItem(batchId, id, { status: 'succeeded', costMicros: 0, images: 1 });
    }
  }
  expect(await env.store.completeBatch(batchId, `${batchId}/manifest.jsonl`)).toBe(true);
}

describe('tenant quotas', () => {
  test('max_open_batches: 429 past it, another tenant accepted at once, completion and cancel free it', async () => {
    const q = quotaApp({ maxOpenBatches: 2 });
    const first = await accepted(q.submit(q.a, 1));
    const second = await accepted(q.submit(q.a, 1));
    const { retryAfter } = await refused(q.a, () => q.submit(q.a, 1), 'max_open_batches', 2);
    expect(retryAfter).toBe(30);
    // Streamed batches are refused before anything is read or queued.
    await refused(q.a, () => q.stream(q.a, 3), 'max_open_batches', 2);
    // Tenant A at its quota does not hold up tenant B.
    await accepted(q.submit(q.b, 1));

    await runToCompletion(first.id);
    await accepted(q.submit(q.a, 1));
    await refused(q.a, () => q.submit(q.a, 1), 'max_open_batches', 2);
    const cancel = await call(q.app, 'POST', `/v1/batches/${second.id}/cancel`, { key: q.a.key });
    expect(cancel.status).toBe(200);
    await accepted(q.stream(q.a, 2));
  });

  test('max_queued_items: queued and running items count, ended items free them; too big ever is 413', async () => {
    const q = quotaApp({ maxQueuedItems: 5 });
    const first = await accepted(q.submit(q.a, 3));
    await refused(q.a, () => q.submit(q.a, 3), 'max_queued_items', 5);
    // A stream whose count is known only at its end: 3 more do not fit; its items and jobs are removed.
    await refused(q.a, () => q.stream(q.a, 3), 'max_queued_items', 5);
    await accepted(q.submit(q.b, 5));

    // A running item still counts; an ended one does not.
    const [running, done] = (await env.store.itemIds(first.id).next()).value as string[];
    await env.store.startItem(first.id, running as string);
    await refused(q.a, () => q.submit(q.a, 3), 'max_queued_items', 5);
    await env.store.startItem(first.id, done as string);
    await env.store.endItem(first.id, done as string, { status: 'failed', costMicros: 0, images: 0 });
    await accepted(q.stream(q.a, 3));

    // Bigger than the quota on its own: it can never fit, so 413 (not a 429 to retry), nothing written.
    const before = await state(q.a);
    const tooBig = expectError(await q.submit(q.a, 6), 413, 'tenant_quota_exceeded');
    expect(tooBig).toEqual([]);
    expect(await state(q.a)).toEqual(before);
  });

  test('items_per_minute: Retry-After is the wait until enough of the window frees, then accepted', async () => {
    const q = quotaApp({ itemsPerMinute: 10 }, { windowMs: 3000 });
    await accepted(q.submit(q.a, 6));
    const { retryAfter } = await refused(q.a, () => q.submit(q.a, 6), 'items_per_minute', 10);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    await accepted(q.submit(q.a, 4));
    await accepted(q.submit(q.b, 10));
    expectError(await q.submit(q.a, 11), 413, 'tenant_quota_exceeded');
    // Poll with a deadline until the window has slid past the first submission.
    const deadline = Date.now() + retryAfter * 1000 + 2000;
    let r = await q.submit(q.a, 6);
    while (r.status === 429 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      r = await q.submit(q.a, 6);
    }
    expect(r.status, JSON.stringify(r.json)).toBe(201);
  });

  test('concurrent submissions of one tenant never pass the quota together (JSON and NDJSON)', async () => {
    const q = quotaApp({ maxQueuedItems: 5, maxOpenBatches: 10 });
    const jobsBefore = (await allJobs(env.queues.generate(MODEL))).length;
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? q.submit(q.a, 2) : q.stream(q.a, 2))),
    );
    const ok = replies.filter((r) => r.status === 201);
    expect(ok).toHaveLength(2);
    for (const r of replies.filter((x) => x.status !== 201)) expectError(r, 429, 'tenant_quota_exceeded');
    const listed = await env.redis.zrange(env.store.keys.tenantBatches(q.a.id), '0', '-1');
    expect(listed.sort()).toEqual(ok.map((r) => r.json.id).sort());
    expect((await allJobs(env.queues.generate(MODEL))).length).toBe(jobsBefore + 4);
    expect(await env.redis.hkeys(q.quotas.store.openKey(q.a.id))).toHaveLength(2);
  });

  test('a per-tenant override beats the default (0 = unlimited for that tenant)', async () => {
    const q = quotaApp(
      { maxOpenBatches: 1 },
      { overrides: (a, b) => ({ [a.id]: { maxOpenBatches: 3 }, [b.id]: { maxOpenBatches: 0 } }) },
    );
    for (let i = 0; i < 3; i++) await accepted(q.submit(q.a, 1));
    await refused(q.a, () => q.submit(q.a, 1), 'max_open_batches', 3);
    for (let i = 0; i < 4; i++) await accepted(q.submit(q.b, 1));
  });

  test('a completed batch re-opened by a retry counts as open again', async () => {
    const q = quotaApp({ maxOpenBatches: 1 });
    const batch = await accepted(q.submit(q.a, 1));
    const [id] = (await env.store.itemIds(batch.id).next()).value as string[];
    await env.store.startItem(batch.id, id as string);
    await env.store.endItem(batch.id, id as string, { status: 'failed', costMicros: 0, images: 0 });
    expect(await env.store.completeBatch(batch.id, `${batch.id}/manifest.jsonl`)).toBe(true);
    // Its completion was seen (the entry dropped) by the next submission, which then completed too.
    const other = await accepted(q.submit(q.a, 1));
    await runToCompletion(other.id);
    const retry = await call(q.app, 'POST', `/v1/batches/${batch.id}/retry`, { key: q.a.key });
    expect(retry.status, JSON.stringify(retry.json)).toBe(200);
    expect(retry.headers.get('x-retried-items')).toBe('1');
    await refused(q.a, () => q.submit(q.a, 1), 'max_open_batches', 1);
  });

  test('a batch refused for another reason gives its reservation back', async () => {
    const q = quotaApp({ maxOpenBatches: 1 });
    const bad = await call(q.app, 'POST', '/v1/batches', {
      key: q.a.key,
      body: { model: MODEL, items: [item('x'), { custom_id: 'y' }] },
    });
    expectError(bad, 400, 'invalid_request');
    expect(await env.redis.exists(q.quotas.store.openKey(q.a.id))).toBe(0);
    await accepted(q.submit(q.a, 1));
  });
});
