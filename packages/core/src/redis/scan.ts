import type { Redis } from 'ioredis';
import { masterNodes } from './connection.js';

/**
 * Key names matching `pattern`, a SCAN window at a time, on every master (a cluster's SCAN only
 * walks the node it is sent to). Each window comes with the node that holds its keys.
 */
export async function* scanEveryMaster(
  redis: Redis,
  pattern: string,
  count = 500,
): AsyncGenerator<{ node: Redis; keys: string[] }> {
  for (const node of masterNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield { node, keys };
    } while (cursor !== '0');
  }
}
