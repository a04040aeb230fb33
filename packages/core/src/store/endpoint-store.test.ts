import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, test } from 'vitest';
import { newEndpointId } from '../ids.js';
import { useTestRedis } from '../test-support/index.js';
import { type EndpointInternal, EndpointStore, type NewEndpoint, signingSecrets } from './endpoint-store.js';

const db = useTestRedis('core:ep');
const { prefix } = db;
let redis: Redis;
let store: EndpointStore;

const input = (extra: Partial<NewEndpoint> = {}): NewEndpoint => ({
  id: newEndpointId(),
  url: 'https://hooks.example.com/pixelmill',
  description: 'orders',
  events: ['batch.completed'],
  item_group_max_items: 100,
  item_group_max_wait_s: 10,
  enabled: true,
  secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=',
  ...extra,
});

beforeAll(() => {
  redis = db.redis;
  store = new EndpointStore(redis, prefix);
});

describe('EndpointStore', () => {
  test('create and read back without the secret; another tenant sees nothing', async () => {
    const created = await store.create('acme', input());
    expect(created).toMatchObject({
      object: 'webhook_endpoint',
      url: 'https://hooks.example.com/pixelmill',
      enabled: true,
      disabled_reason: null,
      failing_since: null,
    });
    expect(JSON.stringify(created)).not.toContain('whsec_');
    expect(await store.get('globex', created.id)).toBeNull();
    expect(await store.update('globex', created.id, { enabled: false })).toBeNull();
    expect(await store.delete('globex', created.id)).toBe(false);
    expect(await store.rotateSecret('globex', created.id, 'whsec_x')).toBeNull();
    expect((await store.getInternal(created.id))?.secret).toMatch(/^whsec_/);
  });

  test('lists a tenant’s endpoints oldest first, a page at a time', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.create('paged', input())).id);
    const first = await store.list('paged', { limit: 2 });
    expect(first.data.map((e) => e.id)).toEqual(ids.slice(0, 2));
    const rest = await store.list('paged', { limit: 10, cursor: first.next_cursor ?? '' });
    expect(rest.data.map((e) => e.id)).toEqual(ids.slice(2));
    expect(rest.next_cursor).toBeNull();
    await expect(store.list('paged', { limit: 2, cursor: 'bm9wZQ' })).rejects.toThrow('Invalid cursor');
  });

  test('every change moves the tenant’s version, so workers re-read their cached list', async () => {
    const version = async () => Number(await redis.get(store.versionKey('versioned')));
    const { id } = await store.create('versioned', input());
    const v1 = await version();
    await store.update('versioned', id, { events: ['batch.completed', 'item.failed'] });
    expect(await version()).toBeGreaterThan(v1);
    const v2 = await version();
    await store.disable(id, 'gone');
    expect(await version()).toBeGreaterThan(v2);
  });

  test('rotation: both secrets sign during the overlap, only the new one after it', async () => {
    const { id } = await store.create('acme', input());
    const now = new Date('2026-01-01T00:00:00Z');
    const rotated = await store.rotateSecret('acme', id, 'whsec_bmV3', now, 24 * 3600 * 1000);
    expect(rotated?.previous_secret_expires_at).toBe('2026-01-02T00:00:00.000Z');
    const found = (await store.getInternal(id)) as EndpointInternal;
    expect(signingSecrets(found, new Date('2026-01-01T12:00:00Z'))).toEqual(['whsec_bmV3', input().secret]);
    expect(signingSecrets(found, new Date('2026-01-02T00:00:01Z'))).toEqual(['whsec_bmV3']);
  });

  test('failing without a success for the whole window disables it; a success resets the clock', async () => {
    const { id } = await store.create('acme', input());
    const day = 24 * 3600 * 1000;
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    expect(await store.recordFailure(id, new Date(t0), 5 * day)).toBe(false);
    expect((await store.get('acme', id))?.failing_since).toBe('2026-01-01T00:00:00.000Z');
    expect(await store.recordFailure(id, new Date(t0 + 4 * day), 5 * day)).toBe(false);
    await store.recordSuccess(id);
    expect(await store.recordFailure(id, new Date(t0 + 6 * day), 5 * day)).toBe(false);
    expect(await store.recordFailure(id, new Date(t0 + 11 * day), 5 * day)).toBe(true);
    expect(await store.get('acme', id)).toMatchObject({ enabled: false, disabled_reason: 'failing' });

    const back = await store.update('acme', id, { enabled: true });
    expect(back).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
  });

  test('an attempt’s read has the same URL, state and secrets as the whole record', async () => {
    const { id } = await store.create('acme', input({ rate_limit: 7 }));
    const now = new Date('2026-01-01T00:00:00Z');
    await store.rotateSecret('acme', id, 'whsec_bmV3', now, 24 * 3600 * 1000);
    await store.recordFailure(id, now);
    const check = async () => {
      const whole = (await store.getInternal(id)) as EndpointInternal;
      const toSend = await store.getToSend(id);
      expect(toSend).toEqual({
        tenantId: 'acme',
        secret: whole.secret,
        previousSecret: whole.previousSecret,
        endpoint: {
          id,
          url: whole.endpoint.url,
          enabled: whole.endpoint.enabled,
          rate_limit: whole.endpoint.rate_limit,
          failing_since: whole.endpoint.failing_since,
          previous_secret_expires_at: whole.endpoint.previous_secret_expires_at,
        },
      });
      return toSend;
    };
    expect(await check()).toMatchObject({
      previousSecret: input().secret,
      endpoint: { rate_limit: 7, failing_since: '2026-01-01T00:00:00.000Z', enabled: true },
    });
    await store.update('acme', id, { url: 'https://moved.example.com/h', rate_limit: null, enabled: false });
    expect(await check()).toMatchObject({ endpoint: { url: 'https://moved.example.com/h', enabled: false } });
    await store.delete('acme', id);
    expect(await store.getToSend(id)).toBeNull();
  });

  test('a deleted endpoint stays deleted, even when a late failure is recorded', async () => {
    const { id } = await store.create('acme', input());
    expect(await store.delete('acme', id)).toBe(true);
    expect(await store.recordFailure(id)).toBe(false);
    expect(await store.getInternal(id)).toBeNull();
  });
});
