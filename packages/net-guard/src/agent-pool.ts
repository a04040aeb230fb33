/**
 * @module Keep-alive connections per pinned address. A pooled socket is reused only for the same
 * origin (scheme, host, port) and the same checked addresses: the pool key holds the addresses the
 * SSRF guard approved for this request, so a socket opened after one check never carries a request
 * whose check resolved the name elsewhere (a rebinding gets a pool, and a connection, of its own).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { CheckedUrl } from './ssrf.js';

/** Idle sockets close after this long; receivers commonly close theirs after 5 s. */
const IDLE_MS = 4_000;
/** Pools kept at once (least recently used dropped first, with their sockets). */
const MAX_POOLS = 256;

const pools = new Map<string, HttpAgent>();

function poolKey(target: CheckedUrl): string {
  const addresses = target.addresses.map((a) => a.address).join(',');
  return `${target.url.protocol}//${target.url.host}|${addresses}`;
}

/** The keep-alive agent for this origin and these checked addresses. */
export function agentFor(target: CheckedUrl): HttpAgent {
  const key = poolKey(target);
  const found = pools.get(key);
  if (found !== undefined) {
    // Re-inserted: the Map's order is the recency order.
    pools.delete(key);
    pools.set(key, found);
    return found;
  }
  const options = { keepAlive: true, timeout: IDLE_MS, maxFreeSockets: 64, scheduling: 'lifo' as const };
  const agent = target.url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
  pools.set(key, agent);
  while (pools.size > MAX_POOLS) {
    const [oldest, pool] = pools.entries().next().value as [string, HttpAgent];
    pools.delete(oldest);
    pool.destroy();
  }
  return agent;
}

/** Closes every pooled socket (tests, shutdown). */
export function closeAgentPools(): void {
  for (const pool of pools.values()) pool.destroy();
  pools.clear();
}
