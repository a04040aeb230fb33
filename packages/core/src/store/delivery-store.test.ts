import type { Redis } from 'ioredis';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { deliveryIdFor } from '../ids.js';
import { useTestRedis } from '../test-support/index.js';
import { DeliveryStore } from './delivery-store.js';
import { storeKeyPrefix } from './keys.js';

const db = useTestRedis('core:dlv');
const { prefix } = db;
let redis: Redis;
let store: DeliveryStore;

const attempt = (status: number | null) => ({
  at: new Date().toISOString(),
  status_code: status,
  latency_ms: 5,
  response_excerpt: '',
  error: status === null ? 'timeout' : null,
});

async function make(
  batchId: string,
  n: number,
  endpointId: string | null = null,
  into: DeliveryStore = store,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = deliveryIdFor(`msg_${batchId}_${i}`, endpointId ?? 'batch');
    await into.create({
      id,
      tenantId: 'acme',
      batchId,
      endpointId,
      eventType: 'batch.completed',
      webhookId: `msg_${batchId}_${i}`,
      url: 'https://example.com/h',
      body: '{}',
    });
    ids.push(id);
  }
  return ids;
}

beforeAll(() => {
  redis = db.redis;
  store = new DeliveryStore(redis, prefix);
});

describe('DeliveryStore', () => {
  test('create is idempotent: a repeated step records one delivery', async () => {
    const [id] = await make('batch_a', 1);
    expect(
      await store.create({
        id: id as string,
        tenantId: 'acme',
        batchId: 'batch_a',
        endpointId: null,
        eventType: 'batch.completed',
        webhookId: 'msg_batch_a_0',
        url: 'https://example.com/h',
        body: '{"other":1}',
      }),
    ).toBe(false);
    expect((await store.listForBatch('batch_a', { limit: 10 })).data).toHaveLength(1);
    expect((await store.getInternal(id as string))?.body).toBe('{}');
    expect(await store.get('globex', id as string)).toBeNull();
  });

  test('a batch log pages in creation order with an opaque cursor', async () => {
    const ids = await make('batch_b', 5);
    const first = await store.listForBatch('batch_b', { limit: 2 });
    const second = await store.listForBatch('batch_b', { limit: 2, cursor: first.next_cursor ?? '' });
    const third = await store.listForBatch('batch_b', { limit: 2, cursor: second.next_cursor ?? '' });
    expect([...first.data, ...second.data, ...third.data].map((d) => d.id)).toEqual(ids);
    expect(third.next_cursor).toBeNull();
    await expect(store.listForBatch('batch_b', { limit: 2, cursor: 'eA' })).rejects.toThrow('Invalid cursor');
  });

  test('an endpoint log pages newest first', async () => {
    const ids: string[] = [];
    for (const b of ['batch_c1', 'batch_c2', 'batch_c3']) {
      ids.push(...(await make(b, 1, 'whep_1')));
    }
    const first = await store.listForEndpoint('whep_1', { limit: 2 });
    const rest = await store.listForEndpoint('whep_1', { limit: 2, cursor: first.next_cursor ?? '' });
    expect([...first.data, ...rest.data].map((d) => d.id)).toEqual([...ids].reverse());
    expect(first.data[0]?.endpoint_id).toBe('whep_1');
    expect(rest.next_cursor).toBeNull();
  });

  test('redelivery starts a new series on the same record; not while one is running', async () => {
    const [id] = (await make('batch_d', 1)) as [string];
    expect(await store.startRedelivery(id)).toBe('pending');
    await store.recordAttempt(id, attempt(500), {
      status: 'pending',
      nextAttemptAt: new Date().toISOString(),
    });
    await store.recordAttempt(id, attempt(null), {
      status: 'failed',
      nextAttemptAt: null,
      failureReason: 'exhausted',
    });
    expect(await store.get('acme', id)).toMatchObject({ status: 'failed', failure_reason: 'exhausted' });

    expect(await store.startRedelivery(id)).toBe(1);
    const again = await store.getInternal(id);
    expect(again).toMatchObject({
      status: 'pending',
      failure_reason: null,
      redeliveries: 1,
      series_attempts: 0,
    });
    await store.recordAttempt(id, attempt(204), { status: 'succeeded', nextAttemptAt: null });
    const done = await store.getInternal(id);
    expect(done?.attempts.map((a) => [a.status_code, a.series])).toEqual([
      [500, 0],
      [null, 0],
      [204, 1],
    ]);
    expect(done?.series_attempts).toBe(1);
    expect(await store.startRedelivery('dlv_missing')).toBeNull();
  });

  test('a claim reads what the whole record says, through retries and a redelivery', async () => {
    const [id] = (await make('batch_send', 1, 'whep_send')) as [string];
    // Far enough ahead that every due delivery of this file is claimable; only this one is checked.
    let clock = Date.now() + 1000;
    const claimed = async () => {
      clock += 1000;
      const claim = await store.claim(clock, 60_000, 1000);
      return claim.deliveries.find((d) => d.id === id);
    };
    const agrees = async () => {
      const toSend = await claimed();
      const whole = await store.getInternal(id);
      expect(toSend).toEqual({
        id,
        batch_id: whole?.batch_id,
        endpoint_id: whole?.endpoint_id,
        webhook_id: whole?.webhook_id,
        status: whole?.status,
        body: whole?.body,
        series_attempts: whole?.series_attempts,
      });
      return toSend;
    };
    expect(await agrees()).toMatchObject({ status: 'pending', series_attempts: 0, endpoint_id: 'whep_send' });
    await store.recordAttempt(id, attempt(null), {
      status: 'pending',
      nextAttemptAt: new Date(clock).toISOString(),
    });
    expect(await agrees()).toMatchObject({ status: 'pending', series_attempts: 1 });
    await store.recordAttempt(id, attempt(500), {
      status: 'failed',
      nextAttemptAt: null,
      failureReason: 'exhausted',
    });
    expect(await claimed()).toBeUndefined();
    await store.startRedelivery(id);
    expect(await agrees()).toMatchObject({ status: 'pending', series_attempts: 0 });
  });
});

describe('due deliveries and leases', () => {
  const lease = 30_000;
  let n = 0;
  /** A store of its own per test: the due set holds that test's deliveries only. */
  let own: DeliveryStore;
  const ids = async (at: number, max = 1000) =>
    (await own.claim(at, lease, max)).deliveries.map((d) => d.id).sort();
  beforeEach(() => {
    n += 1;
    own = new DeliveryStore(redis, `${prefix}:leases${n}`);
  });

  test('a new delivery is due at once, claimed once, and claimed again only when its lease lapses', async () => {
    const made = (await make('batch_lease', 3, 'whep_lease', own)).sort();
    const now = Date.now();
    expect(await ids(now)).toEqual(made);
    expect(await own.pendingCounts(now)).toEqual({ due: 0, scheduled: 0, sending: 3, oldestDueS: 0 });
    expect(await ids(now + lease - 1)).toEqual([]);
    const again = await own.claim(now + lease + 1, lease, 1000);
    expect(again.deliveries.map((d) => d.id).sort()).toEqual(made);
    expect(again.recovered).toBe(3);
    for (const id of made)
      await own.recordAttempt(id, attempt(204), { status: 'succeeded', nextAttemptAt: null });
    expect(await ids(now + 10 * lease)).toEqual([]);
    expect(await own.pendingCounts(now)).toEqual({ due: 0, scheduled: 0, sending: 0, oldestDueS: 0 });
  });

  test('a claim takes at most its count, oldest first, and says when the next one is due', async () => {
    const [a, b, c] = (await make('batch_max', 3, 'whep_max', own)) as [string, string, string];
    const now = Date.now() + 1000;
    // Deliveries made in the same millisecond are equally old: give them distinct due times.
    expect(await ids(now)).toEqual([a, b, c].sort());
    await own.defer(a, now + 300);
    await own.defer(b, now + 100);
    await own.defer(c, now + 200);
    const at = now + 1000;
    const first = await own.claim(at, lease, 2);
    expect(first.deliveries.map((d) => d.id)).toEqual([b, c]);
    expect(first.nextAtMs).toBe(now + 300);
    const second = await own.claim(at, lease, 2);
    expect(second.deliveries.map((d) => d.id)).toEqual([a]);
    // Nothing due: the next event is the first lease lapsing.
    expect((await own.claim(at, lease, 2)).nextAtMs).toBe(at + lease);
  });

  test('a retry is due at its time; a deferred attempt at the given time; an ended one never', async () => {
    const [retried, deferred, ended] = (await make('batch_retry', 3, 'whep_retry', own)) as [
      string,
      string,
      string,
    ];
    const now = Date.now() + 1000;
    expect(await ids(now)).toEqual([retried, deferred, ended].sort());
    await own.recordAttempt(retried, attempt(500), {
      status: 'pending',
      nextAttemptAt: new Date(now + 5000).toISOString(),
    });
    expect(await own.defer(deferred, now + 2000)).toBe(true);
    expect(await own.defer(deferred, now + 2000)).toBe(false);
    await own.finish(ended, 'endpoint_disabled');
    expect(await own.dueAt(retried)).toBe(now + 5000);
    expect(await own.pendingCounts(now)).toMatchObject({ due: 0, scheduled: 2, sending: 0 });
    expect(await ids(now + 1999)).toEqual([]);
    expect(await ids(now + 2000)).toEqual([deferred]);
    expect(await ids(now + 5000)).toEqual([retried]);
    expect(await ids(now + 10 * lease)).toEqual([deferred, retried].sort());
    expect((await own.getInternal(ended))?.status).toBe('failed');
  });

  test('redeliver makes a waiting retry due now but leaves one an attempt holds', async () => {
    const [waiting, held] = (await make('batch_fwd', 2, 'whep_fwd', own)) as [string, string];
    const now = Date.now();
    await own.claim(now, lease, 10);
    await own.recordAttempt(waiting, attempt(500), {
      status: 'pending',
      nextAttemptAt: new Date(now + 3_600_000).toISOString(),
    });
    expect(await own.startRedelivery(waiting)).toBe('pending');
    expect(await own.dueAt(waiting)).toBeLessThanOrEqual(Date.now());
    expect(await own.startRedelivery(held)).toBe('pending');
    expect(await own.dueAt(held)).toBeNull();
    expect(await ids(Date.now())).toEqual([waiting]);
  });

  test('a delivery queued by an earlier version is made due once, unless due, held or ended', async () => {
    const [id, ended] = (await make('batch_old', 2, 'whep_old', own)) as [string, string];
    const now = Date.now();
    expect(await own.schedule(id, now)).toBe(false);
    await own.claim(now, lease, 10);
    expect(await own.schedule(id, now)).toBe(false);
    await own.finish(ended, 'endpoint_deleted');
    expect(await own.schedule(ended, now)).toBe(false);
    // As before this version: a pending record with no due entry.
    await own.recordAttempt(id, attempt(500), { status: 'pending', nextAttemptAt: null });
    expect(await own.dueAt(id)).toBeNull();
    expect(await own.schedule(id, now)).toBe(true);
    expect(await own.schedule(id, now)).toBe(false);
    expect(await ids(now)).toEqual([id]);
  });

  test('a claim drops an entry whose record is gone', async () => {
    const [id] = (await make('batch_gone', 1, 'whep_gone', own)) as [string];
    await redis.del(`${storeKeyPrefix(`${prefix}:leases${n}`)}:delivery:${id}`);
    expect(await ids(Date.now())).toEqual([]);
    expect(await own.pendingCounts()).toEqual({ due: 0, scheduled: 0, sending: 0, oldestDueS: 0 });
  });
});
