/** @module Test fixtures: a real Redis, one key prefix per test file, cleanup by prefix. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export function connectRedis(): Redis {
  return new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
}

/** Unique per call, so test files (and parallel runs) never share keys. */
export function testPrefix(): string {
  return `test:ratelimit:${randomUUID()}`;
}

export async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A clock the test moves by hand, for exact timing assertions without waiting. */
export function manualClock(start = 1_000_000): {
  now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
} {
  let t = start;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}
