import type { Redis } from 'ioredis';
import { runScript } from './scripts.js';

/**
 * The window `rate_limit` counts in: a second, plus a guard for what lies between the grant and the
 * request's arrival (signing, connecting, a busy event loop vary by tens of ms per request), so the
 * receiver, counting arrivals, never sees more than `rate_limit` in a second.
 */
const WINDOW_MS = 1000 + 100;

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
    // One hash slot per target (admitDelivery-3.lua touches only these three keys).
    const base = `${this.prefix}:whrate:{${target}}`;
    return Number(
      await runScript(
        this.redis,
        'admitDelivery-3',
        [base, `${base}:seq`, `${base}:wake`],
        [limit, WINDOW_MS],
      ),
    );
  }
}
