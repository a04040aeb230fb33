/**
 * @module Keep-alive connections per pinned address (undici pools). A pooled connection is reused only
 * for the same origin (scheme, host, port) and the same checked addresses: the pool key holds the
 * addresses the SSRF guard approved for this request, and the pool's connections resolve the name to
 * those addresses alone, so a connection opened after one check never carries a request whose check
 * resolved the name elsewhere (a rebinding gets a pool, and a connection, of its own).
 */
import type { LookupFunction } from 'node:net';
import { Pool } from 'undici';
import type { CheckedUrl } from './ssrf.js';

/** Idle connections close after this long; receivers commonly close theirs after 5 s. */
const IDLE_MS = 4_000;
/**
 * A connection still not open after this long is given up (and its socket closed), whether or not
 * the request that started it is still waiting: a request's own deadline (guarded-fetch.ts) ends the
 * request earlier when it is shorter.
 */
const CONNECT_TIMEOUT_MS = 10_000;
/** Pools kept at once (least recently used closed first, once their requests are done). */
const MAX_POOLS = 256;

const pools = new Map<string, Pool>();

function poolKey(target: CheckedUrl): string {
  const addresses = target.addresses.map((a) => a.address).join(',');
  return `${target.url.origin}|${addresses}`;
}

/**
 * Answers every DNS lookup a connection makes with the addresses the guard checked, so a name that
 * re-resolves to 127.0.0.1 after the check (DNS rebinding) cannot be reached.
 */
function pinnedLookup(target: CheckedUrl): LookupFunction {
  const addresses = target.addresses.map(({ address, family }) => ({ address, family }));
  return (_hostname, options, callback) => {
    if (options.all === true) callback(null, addresses);
    else callback(null, target.address, target.family);
  };
}

/** The keep-alive pool for this origin and these checked addresses. */
export function poolFor(target: CheckedUrl): Pool {
  const key = poolKey(target);
  const found = pools.get(key);
  if (found !== undefined) {
    // Re-inserted: the Map's order is the recency order.
    pools.delete(key);
    pools.set(key, found);
    return found;
  }
  const pool = new Pool(target.url.origin, {
    connect: { lookup: pinnedLookup(target) },
    connectTimeout: CONNECT_TIMEOUT_MS,
    // A receiver's Keep-Alive hint can shorten the idle time, never lengthen it past ours.
    keepAliveTimeout: IDLE_MS,
    keepAliveMaxTimeout: IDLE_MS,
  });
  pools.set(key, pool);
  while (pools.size > MAX_POOLS) {
    const [oldest, evicted] = pools.entries().next().value as [string, Pool];
    pools.delete(oldest);
    // Requests already sent on it finish; its connections close after them.
    evicted.close().catch(() => {});
  }
  return pool;
}

/** Closes every pooled connection at once, in-flight requests included (tests, shutdown). */
export async function closeConnectionPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.destroy()));
}
