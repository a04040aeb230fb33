import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceNotConfiguredError } from './errors.js';
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

describe('pickAndAcquire (key rotation)', () => {
  it('skips a parked key and a cooled-down key and uses the free one', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    const keys = ['skip|m|k0', 'skip|m|k1', 'skip|m|k2'];
    for (const id of keys) await limiter.configure({ id, rpm: 10 });
    await limiter.park('skip|m|k0', null);
    await limiter.cooldown('skip|m|k1', 5_000);

    const r = await limiter.pickAndAcquire(keys, opts);
    expect(r).toMatchObject({ ok: true, resourceId: 'skip|m|k2' });
    expect((await limiter.state('skip|m|k2')).inWindow).toBe(1);
    expect((await limiter.state('skip|m|k1')).inWindow).toBe(0);
  });

  it('returns the shortest wait when no key can grant', async () => {
    const clock = manualClock();
    const limiter = createLimiter(redis, { prefix, now: clock.now });
    const keys = ['wait|m|k0', 'wait|m|k1'];
    for (const id of keys) await limiter.configure({ id, rpm: 10 });
    await limiter.park('wait|m|k0', clock.now() + 9_000);
    await limiter.cooldown('wait|m|k1', 3_000);

    expect(await limiter.pickAndAcquire(keys, opts)).toEqual({
      ok: false,
      resourceId: 'wait|m|k1',
      reason: 'cooldown',
      retryInMs: 3_000,
    });
  });

  it('prefers the key with the most headroom, spreading load over equal keys', async () => {
    const limiter = createLimiter(redis, { prefix, now: manualClock().now });
    const keys = ['spread|m|k0', 'spread|m|k1'];
    for (const id of keys) await limiter.configure({ id, rpm: 4 });
    // k0 is already half used, so k1 has more headroom.
    await limiter.tryAcquire('spread|m|k0', opts);
    await limiter.tryAcquire('spread|m|k0', opts);
    expect(await limiter.pickAndAcquire(keys, opts)).toMatchObject({ ok: true, resourceId: 'spread|m|k1' });

    const picked: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await limiter.pickAndAcquire(keys, opts);
      if (r.ok) picked.push(r.resourceId);
    }
    // Each pick goes to the larger headroom (k1 until level with k0), ties to the earlier key.
    expect(picked).toEqual(['spread|m|k1', 'spread|m|k0', 'spread|m|k1', 'spread|m|k0', 'spread|m|k1']);
    expect(await limiter.pickAndAcquire(keys, opts)).toMatchObject({ ok: false, reason: 'rpm' });
  });

  it('refuses an unconfigured key in the list', async () => {
    const limiter = createLimiter(redis, { prefix });
    await limiter.configure({ id: 'p|m|known', rpm: 1 });
    await expect(limiter.pickAndAcquire(['p|m|known', 'p|m|unknown'], opts)).rejects.toEqual(
      new ResourceNotConfiguredError('p|m|unknown'),
    );
  });

  it('refuses resources of different groups (their keys would sit in different cluster slots)', async () => {
    const limiter = createLimiter(redis, { prefix });
    await limiter.configure({ id: 'p|a|k1', rpm: 1 });
    await limiter.configure({ id: 'p|b|k1', rpm: 1 });
    await expect(limiter.pickAndAcquire(['p|a|k1', 'p|b|k1'], opts)).rejects.toThrow(
      /keys hash on different parts \("p\|a" and "p\|b"\)/,
    );
  });
});
