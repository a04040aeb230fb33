import type { Logger } from '@pixelmill/logger';
import type { Redis } from 'ioredis';

/**
 * Warns loudly when Redis is set up to lose accepted work: an eviction policy other than
 * `noeviction` silently deletes queue and batch keys under memory pressure, and without AOF a
 * restart loses everything since the last snapshot (docs/reliability.md "Redis"). Managed Redis
 * services often refuse CONFIG GET; then the check says so and start-up goes on.
 */
export async function checkRedisPersistence(
  redis: Pick<Redis, 'config'>,
  logger: Pick<Logger, 'warn' | 'info' | 'error'>,
): Promise<{ evictionPolicy: string | null; appendonly: string | null }> {
  const read = async (name: string): Promise<string | null> => {
    try {
      const reply = (await redis.config('GET', name)) as unknown as string[];
      return reply[1] ?? null;
    } catch {
      return null;
    }
  };
  const evictionPolicy = await read('maxmemory-policy');
  const appendonly = await read('appendonly');
  if (evictionPolicy === null) {
    logger.warn(
      'could not read maxmemory-policy (CONFIG GET refused); make sure Redis runs with maxmemory-policy noeviction',
    );
  } else if (evictionPolicy !== 'noeviction') {
    logger.error(
      { maxmemory_policy: evictionPolicy },
      `IMPORTANT: Redis maxmemory-policy is "${evictionPolicy}"; it must be "noeviction" or Redis may evict queued jobs and batch records under memory pressure`,
    );
  }
  if (appendonly === 'no') {
    logger.warn(
      'Redis runs without AOF (appendonly no): a Redis restart loses work accepted since the last snapshot; production needs appendonly yes, appendfsync everysec',
    );
  }
  return { evictionPolicy, appendonly };
}
