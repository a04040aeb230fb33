import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiter } from './limiter.js';
import { connectRedis, deleteByPrefix, manualClock, testPrefix } from './test-support/redis.js';

const prefix = testPrefix();
const opts = { leaseMs: 1_000, holder: 'w' };
let redis: Redis;

beforeAll(() => {
  redis = connectRedis();
});

afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

describe('cooldown', () => {
  it('blocks acquisition until it ends and keeps a longer cooldown in place', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    await limiter.configure({ id: 'cool', rpm: 100 });

    expect(await limiter.cooldown('cool', 1_000)).toBe(clock.now() + 1_000);
    expect(await limiter.tryAcquire('cool', opts)).toEqual({
      ok: false,
      reason: 'cooldown',
      retryInMs: 1_000,
    });
    // A shorter hint arriving later does not cut the cooldown.
    expect(await limiter.cooldown('cool', 10)).toBe(clock.now() + 1_000);
    expect((await limiter.state('cool')).cooldownUntil).toBe(clock.now() + 1_000);

    clock.advance(999);
    expect(await limiter.tryAcquire('cool', opts)).toEqual({ ok: false, reason: 'cooldown', retryInMs: 1 });
    clock.advance(1);
    expect((await limiter.tryAcquire('cool', opts)).ok).toBe(true);
    expect((await limiter.state('cool')).cooldownUntil).toBeNull();
  });
});

describe('park', () => {
  it('blocks until a time, indefinitely, and until unpark', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now, parkedPollMs: 30_000 });
    await limiter.configure({ id: 'parked', rpm: 100 });

    await limiter.park('parked', clock.now() + 5_000);
    expect(await limiter.tryAcquire('parked', opts)).toEqual({
      ok: false,
      reason: 'parked',
      retryInMs: 5_000,
    });
    clock.advance(5_000);
    expect((await limiter.tryAcquire('parked', opts)).ok).toBe(true);

    await limiter.park('parked', null);
    expect((await limiter.state('parked')).parkedUntil).toBe('indefinite');
    clock.advance(86_400_000);
    expect(await limiter.tryAcquire('parked', opts)).toEqual({
      ok: false,
      reason: 'parked',
      retryInMs: 30_000,
    });

    await limiter.unpark('parked');
    expect((await limiter.state('parked')).parkedUntil).toBeNull();
    expect((await limiter.tryAcquire('parked', opts)).ok).toBe(true);
  });

  it('reports the longest of several blocking waits', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    await limiter.configure({ id: 'both', rpm: 1, windowMs: 10_000 });
    expect((await limiter.tryAcquire('both', opts)).ok).toBe(true);
    await limiter.cooldown('both', 2_000);
    expect(await limiter.tryAcquire('both', opts)).toEqual({ ok: false, reason: 'rpm', retryInMs: 10_000 });
    await limiter.park('both', clock.now() + 20_000);
    expect(await limiter.tryAcquire('both', opts)).toEqual({
      ok: false,
      reason: 'parked',
      retryInMs: 20_000,
    });
  });
});
