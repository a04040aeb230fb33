/** @module Retry delays as pure functions; `undefined` means "stop retrying". */

export interface FullJitterOptions {
  /** Delay ceiling of the first retry (attempt 0). */
  baseMs: number;
  /** Largest delay ever returned. */
  capMs: number;
  /** Retries allowed; attempt >= maxRetries returns undefined. Default: no limit. */
  maxRetries?: number;
  /** Uniform [0, 1) source; inject for deterministic tests. Default Math.random. */
  random?: () => number;
}

/**
 * "Full jitter" exponential backoff (AWS architecture blog): a uniform delay in
 * [0, min(capMs, baseMs * 2^attempt)). Spreading retries over the whole range keeps workers
 * that failed together from retrying together.
 *
 * `attempt` starts at 0: the first retry after the first failure (BullMQ's `attemptsMade - 1`).
 * Returns undefined when attempt >= maxRetries.
 * A returned 0 is a valid delay (retry now), so test for `undefined`.
 *
 * @example
 * fullJitterBackoff(2, { baseMs: 1_000, capMs: 60_000 }) // somewhere in [0, 4_000)
 */
export function fullJitterBackoff(attempt: number, opts: FullJitterOptions): number | undefined {
  if (!Number.isSafeInteger(attempt) || attempt < 0) {
    throw new RangeError(`attempt starts at 0, got ${attempt}`);
  }
  if (!(opts.baseMs >= 0 && opts.capMs >= 0)) throw new RangeError('baseMs and capMs must be >= 0');
  if (opts.maxRetries !== undefined && attempt >= opts.maxRetries) return undefined;
  // Beyond 2 ** 1023 the power is Infinity, and 0 * Infinity is NaN (baseMs 0); capping the
  // exponent keeps every product finite or Infinity, which min() turns into capMs.
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 1023));
  return Math.floor((opts.random ?? Math.random)() * ceiling);
}
