import { DeliveryStore, EndpointStore, newEndpointId } from '@pixelmill/core';
import { useTestRedis } from '@pixelmill/core/test-support';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testEventDeps } from '../test-support/event-deps.js';
import { type EventDeps, MAX_EVENT_BODY_BYTES } from './event-deps.js';
import { flushItemGroup, groupKey, pushGroupEntry } from './item-groups.js';
import { currentTarget, type EventTarget } from './targets.js';

const db = useTestRedis('wh-groups', { maxRetriesPerRequest: null });
const { prefix } = db;
let redis: Redis;
let deps: EventDeps;

beforeAll(() => {
  redis = db.redis;
  deps = testEventDeps(redis, prefix);
});

afterAll(async () => {
  await deps.queues.close();
});

async function endpoint(maxItems: number): Promise<EventTarget> {
  const id = newEndpointId();
  await new EndpointStore(redis, prefix).create('acme', {
    id,
    url: 'https://hooks.example.com/x',
    description: '',
    events: ['items.completed'],
    item_group_max_items: maxItems,
    item_group_max_wait_s: 60,
    enabled: true,
    secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=',
  });
  const target = await currentTarget(deps, 'batch_g', id);
  if (target === null) throw new Error('no target');
  return target;
}

const entry = (i: number, pad = 0) =>
  JSON.stringify({ id: `item_${i}`, custom_id: `sku-${i}`, note: 'x'.repeat(pad) });

async function sentItems(batchId: string): Promise<{ perDelivery: string[][]; bodies: string[] }> {
  const page = await new DeliveryStore(redis, prefix).listForBatch(batchId, { limit: 1000 });
  const store = new DeliveryStore(redis, prefix);
  const bodies = await Promise.all(page.data.map(async (d) => (await store.getInternal(d.id))?.body ?? ''));
  return {
    bodies,
    perDelivery: bodies.map((b) => (JSON.parse(b).data.items as { id: string }[]).map((i) => i.id)),
  };
}

describe('grouped item events', () => {
  test('two flushes racing send every entry exactly once, in groups of at most max_items', async () => {
    const target = await endpoint(5);
    for (let i = 0; i < 23; i++) await pushGroupEntry(deps, 'batch_g', 'acme', target, entry(i));
    const job = { batch_id: 'batch_g', tenant_id: 'acme', target: target.id, mode: 'all' as const };
    await Promise.all([flushItemGroup(deps, job), flushItemGroup(deps, job)]);

    const { perDelivery } = await sentItems('batch_g');
    expect(perDelivery.flat().sort()).toEqual(Array.from({ length: 23 }, (_, i) => `item_${i}`).sort());
    expect(perDelivery.every((g) => g.length <= 5)).toBe(true);
    expect(perDelivery).toHaveLength(5);
    expect(await redis.llen(groupKey(prefix, 'batch_g', target.id))).toBe(0);
    // The size trigger and the first entry's clock queued flush jobs on the deliver queue.
    expect(await deps.queues.deliver.getJobCountByTypes('wait', 'delayed', 'prioritized')).toBeGreaterThan(0);
  });

  test('`full` leaves a partial group waiting for its clock', async () => {
    const target = await endpoint(4);
    for (let i = 0; i < 10; i++) await pushGroupEntry(deps, 'batch_f', 'acme', target, entry(i));
    await flushItemGroup(deps, { batch_id: 'batch_f', tenant_id: 'acme', target: target.id, mode: 'full' });
    expect((await sentItems('batch_f')).perDelivery.map((g) => g.length)).toEqual([4, 4]);
    expect(await redis.llen(groupKey(prefix, 'batch_f', target.id))).toBe(2);
  });

  test('bodies stay within about 20 kB: large entries split a group', async () => {
    const target = await endpoint(100);
    for (let i = 0; i < 30; i++) await pushGroupEntry(deps, 'batch_big', 'acme', target, entry(i, 2000));
    await flushItemGroup(deps, { batch_id: 'batch_big', tenant_id: 'acme', target: target.id, mode: 'all' });
    const { perDelivery, bodies } = await sentItems('batch_big');
    expect(perDelivery.flat()).toHaveLength(30);
    expect(perDelivery.length).toBeGreaterThan(1);
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(MAX_EVENT_BODY_BYTES);
  });

  test('a flush that died after recording its delivery is finished by the next one, without a duplicate', async () => {
    const target = await endpoint(3);
    for (let i = 0; i < 3; i++) await pushGroupEntry(deps, 'batch_crash', 'acme', target, entry(i));
    await flushItemGroup(deps, {
      batch_id: 'batch_crash',
      tenant_id: 'acme',
      target: target.id,
      mode: 'all',
    });
    // As if the trim had not happened: the same entries are waiting again, plus a new one.
    const key = groupKey(prefix, 'batch_crash', target.id);
    for (let i = 0; i < 4; i++) await redis.rpush(key, entry(i));
    await flushItemGroup(deps, {
      batch_id: 'batch_crash',
      tenant_id: 'acme',
      target: target.id,
      mode: 'all',
    });
    const { perDelivery } = await sentItems('batch_crash');
    expect(perDelivery).toEqual([['item_0', 'item_1', 'item_2'], ['item_3']]);
  });
});
