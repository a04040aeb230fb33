import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiter } from './limiter.js';
import { connectRedis, deleteByPrefix, manualClock, testPrefix } from './test-support/redis.js';
import type { AcquireResult } from './types.js';

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

describe('AIMD effective rate', () => {
  it('halves on 429 down to the floor and climbs back to the declared rpm on success', async () => {
    const limiter = createLimiter(redis, { prefix, now: manualClock().now });
    await limiter.configure({ id: 'aimd', rpm: 40, minRpm: 4 });

    expect(await limiter.onRateLimited('aimd')).toBe(20);
    expect(await limiter.onRateLimited('aimd')).toBe(10);
    expect(await limiter.onRateLimited('aimd')).toBe(5);
    expect(await limiter.onRateLimited('aimd')).toBe(4);
    expect(await limiter.onRateLimited('aimd')).toBe(4);
    expect((await limiter.state('aimd')).effectiveRpm).toBe(4);

    // Step = max(1, 40 / 20) = 2 per success, capped at the declared 40.
    expect(await limiter.onSuccess('aimd')).toBe(6);
    let effective = 6;
    for (let i = 0; i < 20; i++) effective = (await limiter.onSuccess('aimd')) ?? -1;
    expect(effective).toBe(40);
    expect((await limiter.state('aimd')).effectiveRpm).toBe(40);
  });

  it('makes tryAcquire use the effective rate, not the declared one', async () => {
    const limiter = createLimiter(redis, { prefix, now: manualClock().now });
    await limiter.configure({ id: 'applied', rpm: 4 });
    await limiter.onRateLimited('applied');

    expect((await limiter.tryAcquire('applied', opts)).ok).toBe(true);
    expect((await limiter.tryAcquire('applied', opts)).ok).toBe(true);
    expect(await limiter.tryAcquire('applied', opts)).toMatchObject({ ok: false, reason: 'rpm' });
    await limiter.onSuccess('applied');
    expect((await limiter.tryAcquire('applied', opts)).ok).toBe(true);
  });

  it('counts one burst of 429s for requests sent before the last decrease as one signal', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    await limiter.configure({ id: 'burst', rpm: 64 });
    const sent: AcquireResult[] = [];
    for (let i = 0; i < 3; i++) sent.push(await limiter.tryAcquire('burst', opts));
    clock.advance(50);

    const grantedAt = (r: AcquireResult | undefined) => (r?.ok ? r.grantedAt : -1);
    expect(await limiter.onRateLimited('burst', { grantedAt: grantedAt(sent[0]) })).toBe(32);
    expect(await limiter.onRateLimited('burst', { grantedAt: grantedAt(sent[1]) })).toBe(32);
    expect(await limiter.onRateLimited('burst', { grantedAt: grantedAt(sent[2]) })).toBe(32);
    clock.advance(50);
    const later = await limiter.tryAcquire('burst', opts);
    expect(await limiter.onRateLimited('burst', { grantedAt: grantedAt(later) })).toBe(16);
  });

  it('keeps the learned rate when configure runs again, clamped to the new declared rpm', async () => {
    const limiter = createLimiter(redis, { prefix, now: manualClock().now });
    await limiter.configure({ id: 'restart', rpm: 100 });
    await limiter.onRateLimited('restart');
    await limiter.configure({ id: 'restart', rpm: 100 });
    expect((await limiter.state('restart')).effectiveRpm).toBe(50);
    await limiter.configure({ id: 'restart', rpm: 30 });
    expect((await limiter.state('restart')).effectiveRpm).toBe(30);
  });

  it('does nothing without a declared rpm', async () => {
    const limiter = createLimiter(redis, { prefix });
    await limiter.configure({ id: 'no-rpm', concurrency: 3 });
    expect(await limiter.onRateLimited('no-rpm')).toBeUndefined();
    expect(await limiter.onSuccess('no-rpm')).toBeUndefined();
    expect((await limiter.state('no-rpm')).effectiveRpm).toBeNull();
  });
});
