import { type ClusterNode, connectRedis, untilReady } from '@pixelmill/core';
import { deleteKeysUnder } from '@pixelmill/core/test-support';

/**
 * Deletes every key under a test's prefix (SCAN, not KEYS, so a shared Redis is not blocked), on
 * each master when `clusterNodes` names a cluster.
 */
export async function deletePrefix(
  redisUrl: string,
  prefix: string,
  clusterNodes?: ClusterNode[],
): Promise<void> {
  const redis = connectRedis({ url: redisUrl, clusterNodes });
  try {
    await untilReady(redis);
    await deleteKeysUnder(redis, prefix);
  } finally {
    await redis.quit();
  }
}
