import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EconomyStore } from './economy-store.js';

const prefix = `test:core-economy:${randomUUID()}`;
let redis: Redis;
let economy: EconomyStore;

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  economy = EconomyStore.forPrefix(redis, prefix);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('EconomyStore', () => {
  test('the intent is written once: a second run sees it is not fresh and keeps the first label and key', async () => {
    const first = await economy.intend('b1', 0, { label: 'pixelmill:b1:0', keyIndex: 1 });
    expect(first.fresh).toBe(true);
    expect(first.record).toEqual({
      label: 'pixelmill:b1:0',
      keyIndex: 1,
      polls: 0,
      done: false,
      cancelled: false,
      uploads: [],
    });
    const again = await economy.intend('b1', 0, { label: 'other', keyIndex: 0 });
    expect(again.fresh).toBe(false);
    expect(again.record.label).toBe('pixelmill:b1:0');
    expect(again.record.keyIndex).toBe(1);
  });

  test('provider id, uploaded files, polls, cancel and done are kept per pack', async () => {
    await economy.intend('b2', 3, { label: 'l', keyIndex: 0 });
    await economy.submitted('b2', 3, 'batch_xyz', ['file-in', 'file-ref']);
    expect(await economy.polled('b2', 3)).toBe(1);
    expect(await economy.polled('b2', 3)).toBe(2);
    await economy.markCancelled('b2', 3);
    await economy.finish('b2', 3);
    expect(await economy.get('b2', 3)).toEqual({
      label: 'l',
      keyIndex: 0,
      providerId: 'batch_xyz',
      polls: 2,
      done: true,
      cancelled: true,
      uploads: ['file-in', 'file-ref'],
    });
    expect(await economy.get('b2', 4)).toBeNull();
  });

  test('duplicates are counted', async () => {
    expect(await economy.countDuplicate()).toBe(1);
    expect(await economy.countDuplicate()).toBe(2);
    expect(await economy.duplicates()).toBe(2);
  });
});
