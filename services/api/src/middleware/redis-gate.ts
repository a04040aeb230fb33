import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { ApiError } from '../errors.js';

/** What ioredis and BullMQ say when Redis cannot take a command right now. */
const REDIS_AWAY =
  /enableOfflineQueue|Connection is closed|MaxRetriesPerRequest|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|LOADING|Redis is loading|READONLY|CLUSTERDOWN|TRYAGAIN|Cluster redirections|refresh slots cache|Cluster isn't ready/i;

function isRedisUnavailable(err: unknown): boolean {
  return err instanceof Error && (REDIS_AWAY.test(err.message) || REDIS_AWAY.test(err.name));
}

/** A connection that was up and dropped (the first connect may still be under way: let that through). */
const LOST = new Set(['reconnecting', 'close', 'end']);

const unavailable = () =>
  new ApiError(503, 'service_unavailable', 'The queue store (Redis) is unavailable; retry shortly');

/**
 * Fails fast while Redis is away: requests answer 503 with Retry-After at once instead of hanging
 * until Redis comes back (the API's connection has no offline queue), and a request that loses Redis
 * half-way answers 503 rather than 500. Nothing half-accepted stays visible: acceptance publishes a
 * batch only after every write succeeded.
 */
export function redisGate(redis: Pick<Redis, 'status'>): MiddlewareHandler {
  return async function redisGateMiddleware(c, next) {
    if (LOST.has(redis.status)) {
      c.header('retry-after', '5');
      throw unavailable();
    }
    await next();
    if (c.error !== undefined && isRedisUnavailable(c.error)) {
      const err = unavailable();
      c.res = c.json(err.body(), 503, { 'retry-after': '5' });
    }
  };
}
