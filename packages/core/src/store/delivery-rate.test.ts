import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DeliveryRateLimit } from './delivery-rate.js';

const prefix = `test:core:whrate:${randomUUID()}`;
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let a: Redis;
let b: Redis;

beforeAll(() => {
  a = new Redis(url);
  b = new Redis(url);
});

afterAll(async () => {
  const keys = await a.keys(`${prefix}:*`);
  if (keys.length > 0) await a.del(...keys);
  a.disconnect();
  b.disconnect();
});

/** Most grants inside any window of `ms` (grant times as seen by the caller). */
function busiestWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((x, y) => x - y);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= ms) lo += 1;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe('DeliveryRateLimit', () => {
  test('holds the limit across two workers (separate connections) in every sliding second', async () => {
    const limit = 5;
    const grants: number[] = [];
    const until = Date.now() + 2_300;
    // Eight senders per worker, each asking again when told to, as deliver jobs do.
    const sender = async (gate: DeliveryRateLimit) => {
      while (Date.now() < until) {
        const wait = await gate.admit('whep_shared', limit);
        if (wait === 0) grants.push(Date.now());
        else await new Promise((r) => setTimeout(r, Math.min(wait, until - Date.now() + 1)));
      }
    };
    const gates = [new DeliveryRateLimit(a, prefix), new DeliveryRateLimit(b, prefix)];
    await Promise.all(gates.flatMap((g) => Array.from({ length: 8 }, () => sender(g))));
    // 2.3 s at 5 per 1.1 s: a burst of 5, then the waiters spread 220 ms apart from 1.1 s on.
    expect(grants.length).toBeGreaterThanOrEqual(2 * limit);
    expect(grants.length).toBeLessThanOrEqual(3 * limit);
    // 10 ms less than a second: the caller sees a grant a few ms after Redis' clock made it.
    expect(busiestWindow(grants, 990)).toBeLessThanOrEqual(limit);
  });

  test('spreads waiters at the limit pace instead of waking them together', async () => {
    const gate = new DeliveryRateLimit(a, prefix);
    const waits = await Promise.all(Array.from({ length: 12 }, () => gate.admit('whep_spread', 4)));
    expect(waits.filter((w) => w === 0)).toHaveLength(4);
    const later = waits.filter((w) => w > 0).sort((x, y) => x - y);
    expect(later).toHaveLength(8);
    // 4 per second: wake-ups 250 ms apart, the last about 2.75 s out.
    for (let i = 1; i < later.length; i++)
      expect((later[i] as number) - (later[i - 1] as number)).toBeGreaterThanOrEqual(240);
  });

  test('targets are independent', async () => {
    const gate = new DeliveryRateLimit(a, prefix);
    expect(await gate.admit('whep_x', 1)).toBe(0);
    expect(await gate.admit('whep_x', 1)).toBeGreaterThan(0);
    expect(await gate.admit('batch:batch_y', 1)).toBe(0);
  });
});
