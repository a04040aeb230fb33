import { randomUUID } from 'node:crypto';
import {
  type BatchSpec,
  DeliveryStore,
  EndpointStore,
  itemIdFor,
  newBatchId,
  newEndpointId,
  OutboxStore,
  type WebhookEventType,
} from '@pixelmill/core';
import { insertFedItems, useTestRedis } from '@pixelmill/core/test-support';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testEventDeps } from '../test-support/event-deps.js';
import { relayOutboxEntry } from './emit.js';
import type { EventDeps } from './event-deps.js';
import { groupKey } from './item-groups.js';

const db = useTestRedis('wh-emit', { maxRetriesPerRequest: null });
const { prefix } = db;
const SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=';
let redis: Redis;
let deps: EventDeps;

beforeAll(() => {
  redis = db.redis;
  deps = testEventDeps(redis, prefix);
});

afterAll(async () => {
  await deps.queues.close();
});

async function endpoint(tenant: string, events: WebhookEventType[]): Promise<string> {
  const id = newEndpointId();
  await new EndpointStore(redis, prefix).create(tenant, {
    id,
    url: `https://hooks.example.com/${id}`,
    description: '',
    events,
    item_group_max_items: 100,
    item_group_max_wait_s: 60,
    enabled: true,
    secret: SECRET,
  });
  return id;
}

/** A batch with one succeeded and one failed item, ended through the store (so through the outbox). */
async function endedBatch(tenant: string, webhookEvents: WebhookEventType[]): Promise<string> {
  const id = newBatchId();
  const spec: BatchSpec = {
    model: 'sim-image',
    created_at: new Date().toISOString(),
    webhook: { url: 'https://hooks.example.com/own', events: webhookEvents, secret: SECRET },
    output: { prefix: '', format: 'png' },
    priority: 'normal',
    metadata: {},
    estimated_micros: 0,
    images_requested: 2,
  };
  await deps.store.insertBatch({ id, tenantId: tenant, spec });
  const items = ['ok', 'bad'].map((c) => ({
    id: itemIdFor(id, c),
    spec: {
      custom_id: c,
      model: 'sim-image',
      prompt: c,
      size: '1K' as const,
      aspect_ratio: '1:1',
      n: 1,
      reference_images: [],
      metadata: {},
    },
  }));
  await insertFedItems(
    deps.store,
    id,
    tenant,
    items.map((i) => ({ ...i, where: i.spec.custom_id })),
  );
  await deps.store.publishBatch(id, tenant);
  await deps.store.endItem(id, items[0]!.id, { status: 'succeeded', costMicros: 1, images: 1 });
  await deps.store.endItem(id, items[1]!.id, {
    status: 'failed',
    error: { code: 'content_blocked', message: 'no', retryable: false },
    costMicros: 0,
    images: 0,
  });
  await deps.store.completeBatch(id, 'm.jsonl', 'r.csv');
  return id;
}

/** Relays every waiting outbox entry `times` times over (as relays that died before removing them would). */
async function relayAll(times: number): Promise<void> {
  const outbox = new OutboxStore(redis, prefix);
  await outbox.ensureGroup();
  const entries = await outbox.read('test', 1000, 1);
  for (let i = 0; i < times; i++) for (const e of entries) if ('kind' in e) await relayOutboxEntry(deps, e);
  for (const e of entries) await outbox.remove(e.id);
}

async function typesByTarget(batchId: string): Promise<Record<string, string[]>> {
  const page = await new DeliveryStore(redis, prefix).listForBatch(batchId, { limit: 100 });
  const out: Record<string, string[]> = {};
  for (const d of page.data) {
    const key = d.endpoint_id ?? 'batch';
    out[key] = [...(out[key] ?? []), d.event_type];
  }
  for (const k of Object.keys(out)) out[k]?.sort();
  return out;
}

describe('relaying outbox entries', () => {
  test('each target gets exactly the types it names; relaying twice records nothing more', async () => {
    const tenant = `t-${randomUUID().slice(0, 6)}`;
    const each = await endpoint(tenant, ['item.succeeded']);
    const grouped = await endpoint(tenant, ['items.completed', 'batch.completed']);
    const failed = await endpoint(tenant, ['item.failed', 'batch.cancelled']);
    const batchId = await endedBatch(tenant, ['batch.completed', 'item.succeeded', 'item.failed']);
    await relayAll(2);
    expect(await typesByTarget(batchId)).toEqual({
      batch: ['batch.completed', 'item.failed', 'item.succeeded'],
      [each]: ['item.succeeded'],
      [grouped]: ['batch.completed'],
      [failed]: ['item.failed'],
    });
    // Both item ends wait in the grouped target's group once each, whatever the relay repeated.
    const entries = await redis.lrange(groupKey(prefix, batchId, grouped), 0, -1);
    expect(entries.map((e) => JSON.parse(e).custom_id).sort()).toEqual(['bad', 'ok']);
    expect(await redis.llen(groupKey(prefix, batchId, 'batch'))).toBe(0);
  });

  test('item.reviewed and item.regenerated reach only the targets that name them, once per change', async () => {
    const tenant = `t-${randomUUID().slice(0, 6)}`;
    const reviews = await endpoint(tenant, ['item.reviewed']);
    const regenerations = await endpoint(tenant, ['item.regenerated', 'batch.completed']);
    const batchId = await endedBatch(tenant, ['batch.completed']);
    await relayAll(1);
    const ok = itemIdFor(batchId, 'ok');
    const at = new Date().toISOString();
    await deps.store.reviewItems(batchId, [ok], { status: 'approved', by: 'k1', at, note: null });
    await deps.store.reviewItems(batchId, [ok], {
      status: 'rejected',
      by: 'k1',
      at: new Date(Date.parse(at) + 1).toISOString(),
      note: 'dark',
    });
    const item = await deps.store.getItem(ok);
    await deps.store.regenerateItem(
      batchId,
      ok,
      {
        custom_id: 'ok',
        model: 'sim-image',
        prompt: 'again',
        size: '1K',
        aspect_ratio: '1:1',
        n: 1,
        reference_images: [],
        metadata: {},
      },
      { reason: 'requested', by: 'k1', changed: ['prompt'] },
    );
    expect(item?.review.status).toBe('rejected');
    await relayAll(2);
    expect(await typesByTarget(batchId)).toEqual({
      batch: ['batch.completed'],
      [reviews]: ['item.reviewed', 'item.reviewed'],
      [regenerations]: ['batch.completed', 'item.regenerated'],
    });
    const page = await new DeliveryStore(redis, prefix).listForBatch(batchId, { limit: 100 });
    const regenerated = page.data.find((d) => d.event_type === 'item.regenerated');
    const body = JSON.parse((await new DeliveryStore(redis, prefix).getInternal(regenerated!.id))!.body);
    expect(body.data).toMatchObject({ id: ok, version: 2, status: 'queued' });
    expect(body.data).not.toHaveProperty('prompt');
  });
});
