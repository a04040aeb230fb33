import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImagesExceedLimitError, ResourceNotConfiguredError } from './errors.js';
import { createLimiter } from './limiter.js';
import { hammer, maxInAnyWindow } from './test-support/hammer.js';
import { connectRedis, deleteByPrefix, manualClock, testPrefix } from './test-support/redis.js';

const prefix = testPrefix();
const connections: Redis[] = [];
const lease = { leaseMs: 10_000, holder: 'test' };

beforeAll(() => {
  for (let i = 0; i < 4; i++) connections.push(connectRedis());
});

afterAll(async () => {
  await deleteByPrefix(connections[0]!, prefix);
  for (const c of connections) c.disconnect();
});

describe('sliding request window', () => {
  it('never grants more than rpm in any window span under concurrent load, and saturates', async () => {
    const rpm = 10;
    const windowMs = 500;
    // 5.4 windows: a sixth burst normally fits, so the bound below tolerates a window of drift.
    const durationMs = 2_700;
    await createLimiter(connections[0]!, { prefix }).configure({ id: 'load', rpm, windowMs });

    const endAt = Date.now() + durationMs;
    const perConnection = await Promise.all(
      connections.map((redis, i) =>
        hammer(createLimiter(redis, { prefix }), 'load', { endAt, loops: 3, holder: `c${i}` }),
      ),
    );
    const grants = perConnection.flat();

    expect(maxInAnyWindow(grants, windowMs)).toBe(rpm);
    // Honouring exact hints keeps the window full: at least one full burst per whole window.
    expect(grants.length).toBeGreaterThanOrEqual(rpm * Math.floor(durationMs / windowMs));
    expect(perConnection.filter((g) => g.length > 0).length).toBeGreaterThan(1);
  });

  it('counts a request from when it was sent: its slot frees one window after the send', async () => {
    const clock = manualClock();
    const limiter = createLimiter(connections[0]!, { prefix, now: clock.now });
    await limiter.configure({ id: 'sent', rpm: 2, ipm: 4, windowMs: 1_000 });

    const first = await limiter.tryAcquire('sent', { ...lease, images: 2 });
    expect(first.ok).toBe(true);
    expect((await limiter.tryAcquire('sent', lease)).ok).toBe(true);
    // The first request left 300 ms after its grant (a slow reference-image download, say).
    clock.advance(300);
    expect(await limiter.sent('sent', first.ok ? first.leaseId : '', 2)).toBe(true);
    clock.advance(700);
    // At +1000 the second request's slot is free; the first one's is not until +1300.
    expect((await limiter.tryAcquire('sent', lease)).ok).toBe(true);
    expect(await limiter.tryAcquire('sent', lease)).toEqual({ ok: false, reason: 'rpm', retryInMs: 300 });
    // A lease or image count that does not match a window member is refused.
    expect(await limiter.sent('sent', 'no-such-lease', 2)).toBe(false);
    expect(await limiter.sent('sent', first.ok ? first.leaseId : '', 1)).toBe(false);
    clock.advance(300);
    expect((await limiter.tryAcquire('sent', lease)).ok).toBe(true);
    // Gone from the window: nothing to move.
    clock.advance(2_000);
    expect(await limiter.sent('sent', first.ok ? first.leaseId : '', 2)).toBe(false);
    expect((await limiter.state('sent')).imagesInWindow).toBe(0);
  });

  it('gives a withdrawn grant back whole: its window entry, images and lease, at once', async () => {
    const clock = manualClock();
    const limiter = createLimiter(connections[0]!, { prefix, now: clock.now });
    await limiter.configure({ id: 'withdraw', rpm: 2, ipm: 3, concurrency: 2, windowMs: 1_000 });

    const unsent = await limiter.tryAcquire('withdraw', { ...lease, images: 2 });
    const sent = await limiter.tryAcquire('withdraw', lease);
    if (!unsent.ok || !sent.ok) throw new Error('could not take both slots');
    expect(await limiter.tryAcquire('withdraw', lease)).toMatchObject({ ok: false, reason: 'rpm' });
    clock.advance(100);
    // The first request was never sent: withdrawn, it frees its rpm, ipm and concurrency slots now,
    // not one window after its grant.
    expect(await limiter.withdraw('withdraw', unsent.leaseId, 2)).toBe(true);
    expect(await limiter.state('withdraw')).toMatchObject({ inWindow: 1, imagesInWindow: 1, inFlight: 1 });
    const next = await limiter.tryAcquire('withdraw', { ...lease, images: 2 });
    expect(next.ok).toBe(true);
    // A second withdraw of the same grant, or of one that does not match, changes nothing.
    expect(await limiter.withdraw('withdraw', unsent.leaseId, 2)).toBe(false);
    expect(await limiter.withdraw('withdraw', sent.leaseId, 3)).toBe(false);
    expect(await limiter.state('withdraw')).toMatchObject({ inWindow: 2, imagesInWindow: 3 });
  });

  it('hints the time until the oldest request leaves the window', async () => {
    const clock = manualClock();
    const limiter = createLimiter(connections[0]!, { prefix, now: clock.now });
    await limiter.configure({ id: 'hint', rpm: 2, windowMs: 1_000 });

    expect((await limiter.tryAcquire('hint', lease)).ok).toBe(true);
    clock.advance(100);
    expect((await limiter.tryAcquire('hint', lease)).ok).toBe(true);
    clock.advance(200);
    expect(await limiter.tryAcquire('hint', lease)).toEqual({ ok: false, reason: 'rpm', retryInMs: 700 });
    clock.advance(699);
    expect(await limiter.tryAcquire('hint', lease)).toEqual({ ok: false, reason: 'rpm', retryInMs: 1 });
    clock.advance(1);
    expect((await limiter.tryAcquire('hint', lease)).ok).toBe(true);
    // Now the request at +100 is the oldest; it leaves at +1100.
    expect(await limiter.tryAcquire('hint', lease)).toEqual({ ok: false, reason: 'rpm', retryInMs: 100 });
  });

  it('counts images per window and hints when enough of them leave', async () => {
    const clock = manualClock();
    const limiter = createLimiter(connections[0]!, { prefix, now: clock.now });
    await limiter.configure({ id: 'images', ipm: 5, windowMs: 1_000 });

    expect((await limiter.tryAcquire('images', { ...lease, images: 3 })).ok).toBe(true);
    clock.advance(100);
    expect((await limiter.tryAcquire('images', { ...lease, images: 2 })).ok).toBe(true);
    clock.advance(100);
    // 5 in the window: one more needs the 3 images from t=0 to leave, at +1000.
    expect(await limiter.tryAcquire('images', lease)).toEqual({ ok: false, reason: 'ipm', retryInMs: 800 });
    clock.set(1_000_000 + 1_000);
    expect((await limiter.tryAcquire('images', { ...lease, images: 3 })).ok).toBe(true);
    expect((await limiter.state('images')).imagesInWindow).toBe(5);
    await expect(limiter.tryAcquire('images', { ...lease, images: 6 })).rejects.toBeInstanceOf(
      ImagesExceedLimitError,
    );
  });

  it('refuses resources nobody configured', async () => {
    const limiter = createLimiter(connections[0]!, { prefix });
    await expect(limiter.tryAcquire('nobody', lease)).rejects.toBeInstanceOf(ResourceNotConfiguredError);
  });
  it('paces grants at windowMs / (effective rpm × burst), one spacing of slack', async () => {
    const clock = manualClock();
    const limiter = createLimiter(connections[0]!, { prefix, now: clock.now });
    // 10 per second at most twice the average rate: one grant per 50 ms on average.
    await limiter.configure({ id: 'smooth', rpm: 10, windowMs: 1_000, burst: 2 });
    // A grant may come one spacing before its turn: two back to back, then one per 50 ms.
    expect((await limiter.tryAcquire('smooth', lease)).ok).toBe(true);
    expect((await limiter.tryAcquire('smooth', lease)).ok).toBe(true);
    expect(await limiter.tryAcquire('smooth', lease)).toEqual({ ok: false, reason: 'rpm', retryInMs: 50 });
    clock.advance(10);
    expect(await limiter.tryAcquire('smooth', lease)).toEqual({ ok: false, reason: 'rpm', retryInMs: 40 });
    clock.advance(40);
    expect((await limiter.tryAcquire('smooth', lease)).ok).toBe(true);
    expect(await limiter.tryAcquire('smooth', lease)).toEqual({ ok: false, reason: 'rpm', retryInMs: 50 });
    // A grant that came late (a busy slot held it back 80 ms) lets the next follow at once,
    // but no further: the slack is one spacing, not the time lost.
    clock.advance(130);
    expect((await limiter.tryAcquire('smooth', lease)).ok).toBe(true);
    expect((await limiter.tryAcquire('smooth', lease)).ok).toBe(true);
    expect(await limiter.tryAcquire('smooth', lease)).toEqual({ ok: false, reason: 'rpm', retryInMs: 50 });
    // The window still caps the total: 10 grants, then wait for the first to leave.
    for (let i = 0; i < 5; i++) {
      clock.advance(50);
      expect((await limiter.tryAcquire('smooth', lease)).ok).toBe(true);
    }
    clock.advance(50);
    expect(await limiter.tryAcquire('smooth', lease)).toMatchObject({
      ok: false,
      reason: 'rpm',
      retryInMs: 520,
    });
    // AIMD halves the effective rpm, which doubles the spacing.
    clock.advance(1_000);
    await limiter.onRateLimited('smooth');
    expect((await limiter.state('smooth')).effectiveRpm).toBe(5);
    expect((await limiter.tryAcquire('smooth', lease)).ok).toBe(true);
    expect((await limiter.tryAcquire('smooth', lease)).ok).toBe(true);
    expect(await limiter.tryAcquire('smooth', lease)).toEqual({ ok: false, reason: 'rpm', retryInMs: 100 });
  });

  it('paces grants from the grants, not from their sends (sent-2 moves the window entry later)', async () => {
    const clock = manualClock();
    const limiter = createLimiter(connections[0]!, { prefix, now: clock.now });
    await limiter.configure({ id: 'spaced-from-grant', rpm: 10, windowMs: 1_000, burst: 2 });
    const first = await limiter.tryAcquire('spaced-from-grant', lease);
    expect((await limiter.tryAcquire('spaced-from-grant', lease)).ok).toBe(true);
    if (!first.ok) throw new Error('first grant refused');
    // The first request left 30 ms after its grant (item reads, a busy event loop).
    clock.advance(30);
    expect(await limiter.sent('spaced-from-grant', first.leaseId)).toBe(true);
    clock.advance(19);
    expect(await limiter.tryAcquire('spaced-from-grant', lease)).toEqual({
      ok: false,
      reason: 'rpm',
      retryInMs: 1,
    });
    // 50 ms after the grants: the next turn has come, whatever the send's delay.
    clock.advance(1);
    expect((await limiter.tryAcquire('spaced-from-grant', lease)).ok).toBe(true);
  });
});
