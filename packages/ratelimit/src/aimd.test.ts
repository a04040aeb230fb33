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
  it('halves on 429 down to the floor, holds, then climbs back one step per window', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    await limiter.configure({ id: 'aimd', rpm: 40, minRpm: 4, windowMs: 1_000 });

    expect(await limiter.onRateLimited('aimd')).toBe(20);
    expect(await limiter.onRateLimited('aimd')).toBe(10);
    expect(await limiter.onRateLimited('aimd')).toBe(5);
    expect(await limiter.onRateLimited('aimd')).toBe(4);
    expect(await limiter.onRateLimited('aimd')).toBe(4);
    expect((await limiter.state('aimd')).effectiveRpm).toBe(4);

    // Held for 3 windows after the last decrease: successes change nothing.
    expect(await limiter.onSuccess('aimd')).toBe(4);
    clock.advance(2_999);
    expect(await limiter.onSuccess('aimd')).toBe(4);
    // Then a step of max(1, 40 / 20) = 2, at most once per window, capped at the declared 40.
    clock.advance(1);
    expect(await limiter.onSuccess('aimd')).toBe(6);
    expect(await limiter.onSuccess('aimd')).toBe(6);
    clock.advance(999);
    expect(await limiter.onSuccess('aimd')).toBe(6);
    let effective = 6;
    for (let i = 0; i < 20; i++) {
      clock.advance(1_000);
      effective = (await limiter.onSuccess('aimd')) ?? -1;
    }
    expect(effective).toBe(40);
    expect((await limiter.state('aimd')).effectiveRpm).toBe(40);
  });

  it('settles on what the provider took in its window when its limit is below the declared one', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    // Declared 60 a minute; the provider allows 40: it refuses the 41st request of its window.
    await limiter.configure({ id: 'misdeclared', rpm: 60, windowMs: 60_000 });
    let last: AcquireResult | undefined;
    for (let i = 0; i < 41; i++) {
      last = await limiter.tryAcquire('misdeclared', opts);
      expect(last.ok).toBe(true);
      clock.advance(500);
    }
    const grantedAt = last?.ok ? last.grantedAt : -1;
    // The hint: until the provider's oldest request leaves its window (far from the edge).
    expect(await limiter.onRateLimited('misdeclared', { grantedAt, retryAfterMs: 39_500 })).toBe(40);
    // No halving to 30 and climbing back to 60 within ten successes: held at 40.
    for (let i = 0; i < 10; i++) await limiter.onSuccess('misdeclared');
    expect((await limiter.state('misdeclared')).effectiveRpm).toBe(40);
  });

  it('keeps the rate for a lone 429 at the window edge; a second one within the window lowers it', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    await limiter.configure({ id: 'edge', rpm: 10, windowMs: 1_000 });
    for (let i = 0; i < 10; i++) {
      expect((await limiter.tryAcquire('edge', opts)).ok).toBe(true);
      clock.advance(10);
    }
    // The oldest left our window; the provider, counting a little later, still held it.
    clock.set(1_000_000 + 1_000);
    const atEdge = await limiter.tryAcquire('edge', opts);
    const grantedAt = (r: AcquireResult) => (r.ok ? r.grantedAt : -1);
    clock.advance(5);
    expect(await limiter.onRateLimited('edge', { grantedAt: grantedAt(atEdge), retryAfterMs: 8 })).toBe(10);
    expect((await limiter.state('edge')).effectiveRpm).toBe(10);
    // The next slot, refused again at the edge within the same window: the limit is lower.
    clock.set(1_000_000 + 1_010);
    const again = await limiter.tryAcquire('edge', opts);
    clock.advance(5);
    expect(await limiter.onRateLimited('edge', { grantedAt: grantedAt(again), retryAfterMs: 8 })).toBe(9);
  });

  it('makes tryAcquire use the effective rate, not the declared one', async () => {
    // No hold after the decrease, so that the first success steps the rate up at once.
    const limiter = createLimiter(redis, { prefix, now: manualClock().now, aimd: { holdWindows: 0 } });
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

  it('reads a lone edge 429 answered a third of a window after its grant as an edge, not a lower limit', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    await limiter.configure({ id: 'late-429', rpm: 10, windowMs: 1_000 });
    // A full window of requests, spread over it.
    for (let i = 0; i < 10; i++) {
      expect((await limiter.tryAcquire('late-429', opts)).ok).toBe(true);
      clock.advance(100);
    }
    // At +1000 the first one left: the next is granted at once; the provider, which counted the
    // first one a little later than we did, refuses it, and its 429 arrives 400 ms later.
    const edge = await limiter.tryAcquire('late-429', opts);
    if (!edge.ok) throw new Error('the freed slot was not granted');
    clock.advance(400);
    // When the 429 arrives, only 5 of the 9 requests before it are still in a window counted from
    // now; in the window before its grant there were 9 (= rpm - 1): an edge, the rate stays.
    expect(await limiter.onRateLimited('late-429', { grantedAt: edge.grantedAt, retryAfterMs: 20 })).toBe(10);
    expect((await limiter.state('late-429')).effectiveRpm).toBe(10);
  });
});
