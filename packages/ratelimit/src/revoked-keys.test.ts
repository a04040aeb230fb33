import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId, readLimitStates, schedulingPrefixes } from './limit-view.js';
import { createKeyRevocations } from './revoked-keys.js';
import { connectRedis, deleteByPrefix, testPrefix } from './test-support/redis.js';

const prefix = testPrefix();
let redis: Redis;

beforeAll(() => {
  redis = connectRedis();
});

afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

const keys = ['sk-live-aaaaaaaaaaaaaaaa', 'sk-live-bbbbbbbbbbbbbbbb'];
const [good, bad] = keys.map(keyId) as [string, string];

describe('key revocations', () => {
  it('a revoked key is marked once per provider and shown for every model of that provider', async () => {
    const revocations = createKeyRevocations(redis, { prefix: schedulingPrefixes(prefix).limiter });
    // Two workers meet the same refusal: one of them places (and reports) the mark.
    const placed = await Promise.all([
      revocations.revoke('p1', bad, 'API_KEY_INVALID'),
      revocations.revoke('p1', bad, 'API_KEY_INVALID'),
    ]);
    expect(placed.filter(Boolean)).toHaveLength(1);

    const marks = await revocations.revoked('p1', [good, bad]);
    expect([...marks.keys()]).toEqual([bad]);
    expect(marks.get(bad)).toMatchObject({ keyId: bad, reason: 'API_KEY_INVALID' });
    expect(marks.get(bad)!.until - marks.get(bad)!.since).toBe(60 * 60_000);
    // Another provider's key with the same hash is not touched.
    expect((await revocations.revoked('p2', [bad])).size).toBe(0);

    const registry = {
      list: () => [
        { id: 'img-a', provider: 'p1' },
        { id: 'img-b', provider: 'p1' },
        { id: 'img-c', provider: 'p2' },
      ],
      provider: () => ({ apiKeys: keys }),
    };
    const states = await readLimitStates(redis, prefix, registry);
    const revokedIds = states.map((s) => s.keys.filter((k) => k.revoked !== null).map((k) => k.keyId));
    expect(revokedIds).toEqual([[bad], [bad], []]);
    expect(JSON.stringify(states)).not.toContain('sk-live');

    await revocations.restore('p1', bad);
    expect((await revocations.revoked('p1', [good, bad])).size).toBe(0);
  });

  it('the mark lapses after its time to live', async () => {
    const revocations = createKeyRevocations(redis, { prefix: `${prefix}:ttl`, ttlMs: 50 });
    expect(await revocations.revoke('p1', bad, 'invalid_api_key')).toBe(true);
    expect((await revocations.revoked('p1', [bad])).size).toBe(1);
    const deadline = Date.now() + 5_000;
    while ((await revocations.revoked('p1', [bad])).size > 0) {
      if (Date.now() > deadline) throw new Error('mark did not lapse');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await revocations.revoke('p1', bad, 'invalid_api_key')).toBe(true);
  });
});
