import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCircuitBreaker } from './circuit-breaker.js';
import { keyId, readLimitStates, resourceIdFor, schedulingPrefixes } from './limit-view.js';
import { createLimiter } from './limiter.js';
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

describe('readLimitStates', () => {
  it('shows each key of each model by hash, with limits, cooldown, parking and the circuit', async () => {
    const keys = ['sk-live-aaaaaaaaaaaaaaaa', 'sk-live-bbbbbbbbbbbbbbbb', 'sk-live-cccccccccccccccc'];
    const registry = {
      list: () => [
        { id: 'img-a', provider: 'p1' },
        { id: 'img-b', provider: 'p2' },
      ],
      provider: (name: string) => (name === 'p1' ? { apiKeys: keys } : { apiKeys: [] }),
    };
    const p = schedulingPrefixes(prefix);
    const limiter = createLimiter(redis, { prefix: p.limiter });
    const [k0, k1, k2] = keys.map((k) => resourceIdFor('p1', 'img-a', k)) as [string, string, string];
    await limiter.configure({ id: k0, rpm: 20, concurrency: 4 });
    await limiter.configure({ id: k1, rpm: 20, ipm: 30 });
    const grant = await limiter.tryAcquire(k0, { leaseMs: 60_000, holder: 't' });
    expect(grant.ok).toBe(true);
    await limiter.onRateLimited(k0);
    await limiter.cooldown(k0, 5_000);
    await limiter.park(k1, null);
    const breaker = createCircuitBreaker(redis, { prefix: p.circuit, failureThreshold: 1 });
    await breaker.recordFailure('img-a');

    const states = await readLimitStates(redis, prefix, registry);
    expect(states.map((s) => [s.model, s.circuit, s.keys.length])).toEqual([
      ['img-a', 'open', 3],
      ['img-b', 'closed', 0],
    ]);
    const [a0, a1, a2] = states[0]!.keys;
    expect(a0).toMatchObject({
      keyId: keyId(keys[0]!),
      state: { declared: { rpm: 20, concurrency: 4 }, effectiveRpm: 10, inFlight: 1, inWindow: 1 },
    });
    expect(a0!.state!.cooldownUntil).toBeGreaterThan(a0!.state!.at);
    expect(a1!.state).toMatchObject({ parkedUntil: 'indefinite', declared: { ipm: 30 } });
    // Never configured by a worker yet: listed, without state.
    expect(a2).toEqual({ keyId: keyId(keys[2]!), state: null, revoked: null });
    expect(JSON.stringify(states)).not.toContain('sk-live');
    expect(k2).toBe(`p1|img-a|${keyId(keys[2]!)}`);
    expect(keyId(keys[0]!)).toMatch(/^[0-9a-f]{10}$/);
  });
});
