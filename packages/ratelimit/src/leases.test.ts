import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLimiter } from './limiter.js';
import { connectRedis, deleteByPrefix, manualClock, testPrefix } from './test-support/redis.js';
import type { AcquireResult } from './types.js';

const prefix = testPrefix();
let redis: Redis;

beforeAll(() => {
  redis = connectRedis();
});

afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

describe('concurrency leases', () => {
  it('frees the slots of a crashed holder after leaseMs, not before', async () => {
    const leaseMs = 300;
    const limiter = createLimiter(redis, { prefix });
    await limiter.configure({ id: 'crash', concurrency: 2 });

    const startedAt = performance.now();
    const taken = [
      await limiter.tryAcquire('crash', { leaseMs, holder: 'crashed' }),
      await limiter.tryAcquire('crash', { leaseMs, holder: 'crashed' }),
    ];
    if (!taken[0]?.ok || !taken[1]?.ok) throw new Error('could not take the leases');
    const blocked = await limiter.tryAcquire('crash', { leaseMs, holder: 'survivor' });
    expect(blocked).toMatchObject({ ok: false, reason: 'concurrency' });

    // The holder "crashes": it never releases. Poll until a slot frees itself.
    let granted: AcquireResult | undefined;
    await vi.waitFor(
      async () => {
        granted = await limiter.tryAcquire('crash', { leaseMs, holder: 'survivor' });
        expect(granted.ok).toBe(true);
      },
      { timeout: 5_000, interval: 10 },
    );
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(leaseMs);
    if (!granted?.ok) throw new Error('unreachable');
    // On the limiter's own clock too: the first lease had its full leaseMs.
    expect(granted.grantedAt - taken[0].grantedAt).toBeGreaterThanOrEqual(leaseMs);
  });

  it('gives a slot back on release and keeps an extended lease alive', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    await limiter.configure({ id: 'one', concurrency: 1 });
    const opts = { leaseMs: 1_000, holder: 'w' };

    const first = await limiter.tryAcquire('one', opts);
    if (!first.ok) throw new Error('first acquire denied');
    clock.advance(400);
    // Concurrency hints are capped at the poll value (leases usually end early).
    expect(await limiter.tryAcquire('one', opts)).toEqual({
      ok: false,
      reason: 'concurrency',
      retryInMs: 250,
    });
    clock.advance(500);
    expect(await limiter.tryAcquire('one', opts)).toEqual({
      ok: false,
      reason: 'concurrency',
      retryInMs: 100,
    });

    expect(await limiter.extend('one', first.leaseId, 1_000)).toBe(true); // now expires at +1900
    clock.advance(900);
    expect((await limiter.tryAcquire('one', opts)).ok).toBe(false);
    expect((await limiter.state('one')).inFlight).toBe(1);

    expect(await limiter.release('one', first.leaseId)).toBe(true);
    expect(await limiter.release('one', first.leaseId)).toBe(false);
    const second = await limiter.tryAcquire('one', opts);
    expect(second.ok).toBe(true);
    if (!second.ok) return;

    // An expired lease cannot be extended: its slot may already be someone else's.
    clock.advance(1_000);
    expect(await limiter.extend('one', second.leaseId, 1_000)).toBe(false);
  });
});
