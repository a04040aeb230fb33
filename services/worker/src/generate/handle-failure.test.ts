import { randomUUID } from 'node:crypto';
import { ProviderError } from '@pixelmill/core';
import { createLimiter } from '@pixelmill/ratelimit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { itemBackoffMs } from '../workers.js';
import { HAND_BACK_MS, handleFailure, MAX_HINTED_DELAY_MS } from './handle-failure.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `test-handlefail-${randomUUID().slice(0, 8)}`;
const limiter = createLimiter(redis, { prefix });

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const error = (code: 'rate_limited' | 'provider_error', status: number, retryAfterMs?: number) =>
  new ProviderError({ code, message: 'slow down', retryable: true, scope: 'key', status, retryAfterMs });

async function failOn(resourceId: string, err: unknown) {
  await limiter.configure({ id: resourceId, rpm: 60, concurrency: 4, windowMs: 60_000 });
  return handleFailure(err, { limiter, resourceId, grantedAt: Date.now(), attemptsMade: 0, maxAttempts: 3 });
}

/** The hint plus jitter: at least the hint, at most 1 s (or 10 % + 100 ms) more. */
const jittered = (hint: number) => [hint, hint + Math.min(1000, hint * 0.1 + 100)] as const;

describe('handleFailure: provider hints', () => {
  it('a hinted 429 delays the job by the hint plus jitter, and cools the key down by the same wait', async () => {
    const before = Date.now();
    const action = await failOn('r-hinted', error('rate_limited', 429, 12_500));
    expect(action.kind).toBe('wait');
    if (action.kind !== 'wait') throw new Error('unreachable');
    const [low, high] = jittered(12_500);
    expect(action.ms).toBeGreaterThanOrEqual(low);
    expect(action.ms).toBeLessThan(high);
    const { cooldownUntil } = await limiter.state('r-hinted');
    expect(cooldownUntil).not.toBeNull();
    // One wait for both: the key's cooldown ends when the job comes back (limiter and test clocks agree to a few ms).
    expect(Math.abs((cooldownUntil ?? 0) - (before + action.ms))).toBeLessThan(Date.now() - before + 50);
  });

  it('a hint longer than a minute keeps the whole cooldown on the key, the job comes back after a minute', async () => {
    const action = await failOn('r-long', error('rate_limited', 429, 10 * 60_000));
    expect(action).toMatchObject({ kind: 'wait', ms: MAX_HINTED_DELAY_MS });
    const { cooldownUntil } = await limiter.state('r-long');
    expect((cooldownUntil ?? 0) - Date.now()).toBeGreaterThan(9 * 60_000);
  });

  it('an unhinted 429 cools the key down and hands the job back at once (another key may be free)', async () => {
    // The unhinted cooldown is a full-jitter backoff (0–1 s): it may be over before a state read on a
    // busy machine, so the cooldown call itself is what is checked.
    const cooldown = vi.spyOn(limiter, 'cooldown');
    const action = await failOn('r-unhinted', error('rate_limited', 429));
    expect(action).toMatchObject({ kind: 'wait', ms: HAND_BACK_MS });
    expect(cooldown).toHaveBeenCalledWith('r-unhinted', expect.any(Number));
    expect(cooldown.mock.calls[0]?.[1]).toBeGreaterThan(0);
    cooldown.mockRestore();
  });

  it('a hinted 503 is retried after the hint plus jitter; an unhinted one after exponential backoff', async () => {
    const hinted = error('provider_error', 503, 3_000);
    expect((await failOn('r-503', hinted)).kind).toBe('retry');
    const [low, high] = jittered(3_000);
    for (let i = 0; i < 20; i++) {
      const ms = itemBackoffMs(1, hinted);
      expect(ms).toBeGreaterThanOrEqual(low);
      expect(ms).toBeLessThan(high);
    }
    expect(itemBackoffMs(1, error('provider_error', 503))).toBeLessThanOrEqual(2_000);
  });
});
