import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, test } from 'vitest';
import { deliveryIdFor } from '../ids.js';
import { useTestRedis } from '../test-support/index.js';
import { DeliveryStore } from './delivery-store.js';

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

async function make(batchId: string, n: number, endpointId: string | null = null): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = deliveryIdFor(`msg_${batchId}_${i}`, endpointId ?? 'batch');
    await store.create({
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

  test('an attempt’s read agrees with the whole record, through retries and a redelivery', async () => {
    const [id] = (await make('batch_send', 1, 'whep_send')) as [string];
    const agrees = async () => {
      const whole = await store.getInternal(id);
      const toSend = await store.getToSend(id);
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
    await store.recordAttempt(id, attempt(500), {
      status: 'failed',
      nextAttemptAt: null,
      failureReason: 'exhausted',
    });
    expect(await agrees()).toMatchObject({ status: 'failed', series_attempts: 1 });
    await store.startRedelivery(id);
    expect(await agrees()).toMatchObject({ status: 'pending', series_attempts: 0 });
    await store.recordAttempt(id, attempt(null), {
      status: 'pending',
      nextAttemptAt: new Date().toISOString(),
    });
    expect(await agrees()).toMatchObject({ status: 'pending', series_attempts: 1 });
    expect(await store.getToSend('dlv_missing')).toBeNull();
  });
});
