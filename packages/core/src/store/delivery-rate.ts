import type { Redis } from 'ioredis';

/**
 * The window `rate_limit` counts in: a second, plus a guard for what lies between the grant and the
 * request's arrival (signing, connecting, a busy event loop vary by tens of ms per request), so the
 * receiver, counting arrivals, never sees more than `rate_limit` in a second.
 */
const WINDOW_MS = 1000 + 100;

// A sliding log of the sends of the last second per target, on Redis' clock so every worker agrees.
// Admits (returns 0) while fewer than ARGV[1] sends are in the window; otherwise returns how long to
// wait, spreading waiters at the limit's pace (KEYS[3] holds the last wake-up handed out) so a backlog
// wakes a few at a time instead of all at once.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, seq)
  redis.call('PEXPIRE', KEYS[1], window * 2)
  redis.call('PEXPIRE', KEYS[2], window * 2)
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
local wake = oldest + window
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local spaced = last + math.ceil(window / limit)
if spaced > wake then wake = spaced end
redis.call('SET', KEYS[3], wake, 'PX', wake - now + window)
return wake - now
`;

/**
 * Per-target delivery rate limits (`rate_limit` on endpoints and batch webhooks), held across all
 * deliver workers: at most `limit` sends in any sliding second.
 */
export class DeliveryRateLimit {
  constructor(
    readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * Takes a send slot for `target` now (returns 0) or says how many ms to wait before asking again.
   * @param target an endpoint id, or `batch:<id>` for a batch's own webhook.
   */
  async admit(target: string, limit: number): Promise<number> {
    const base = `${this.prefix}:whrate:${target}`;
    return Number(await this.redis.eval(ADMIT, 3, base, `${base}:seq`, `${base}:wake`, limit, WINDOW_MS));
  }
}
