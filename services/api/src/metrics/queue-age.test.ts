import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { oldestWaitingAgeSeconds } from './queue-age.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-queue-age-${randomUUID().slice(0, 8)}`;
let redis: Redis;
const queues: Queue[] = [];

function queue(): Queue {
  const q = new Queue(`q-${queues.length}`, { connection: redis, prefix });
  queues.push(q);
  return q;
}

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  for (const q of queues) {
    await q.obliterate({ force: true });
    await q.close();
  }
  redis.disconnect();
});

const now = Date.now();
const ago = (s: number) => now - s * 1000;

describe('oldestWaitingAgeSeconds', () => {
  test('0 for an empty queue', async () => {
    expect(await oldestWaitingAgeSeconds(redis, queue(), now)).toBe(0);
  });

  test('the oldest job of the wait list, whatever order they were added in', async () => {
    const q = queue();
    await q.add('g', {}, { timestamp: ago(30) });
    await q.add('g', {}, { timestamp: ago(120) });
    await q.add('g', {}, { timestamp: ago(5) });
    expect(await oldestWaitingAgeSeconds(redis, q, now)).toBeCloseTo(120, 3);
  });

  test('the oldest prioritized job even when it is last in line', async () => {
    const q = queue();
    for (let i = 1; i <= 20; i++) await q.add('g', {}, { priority: i, timestamp: ago(10) });
    // A heavy flow's old job: its start tag (priority) puts it behind every newer flow's job.
    await q.add('g', {}, { priority: 1000, timestamp: ago(600) });
    expect(await oldestWaitingAgeSeconds(redis, q, now)).toBeCloseTo(600, 3);
  });

  test('delayed and active jobs do not count as waiting', async () => {
    const q = queue();
    await q.add('g', {}, { delay: 3_600_000, timestamp: ago(900) });
    await q.add('g', {}, { timestamp: ago(15) });
    expect(await oldestWaitingAgeSeconds(redis, q, now)).toBeCloseTo(15, 3);
  });
});
