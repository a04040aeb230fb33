import { deleteKeysUnder } from '@pixelmill/core/test-support';
import { Redis } from 'ioredis';

/** Deletes every key under a test's prefix (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    await redis.quit();
  }
}
