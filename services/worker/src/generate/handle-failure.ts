import { type ItemError, isProviderError, ProviderError } from '@pixelmill/core';
import type { Limiter } from '@pixelmill/ratelimit';
import { fullJitterBackoff } from '@pixelmill/ratelimit';
import { countsAgainstCircuit } from './scheduling.js';

/** What the processor does next after a failed provider call or upload. */
export type FailureAction =
  /**
   * Slow down and put the job back without spending an attempt (429, a parked key with others left),
   * to be fetched again after delayMs.
   */
  | { kind: 'wait'; error: ItemError; delayMs: number }
  /** Spend an attempt and let the queue retry after a backoff. */
  | { kind: 'retry'; error: ProviderError }
  /** End the item as failed. */
  | { kind: 'fail'; error: ItemError };

export function toProviderError(err: unknown): ProviderError {
  if (isProviderError(err)) return err;
  return new ProviderError({
    code: 'internal_error',
    message: err instanceof Error ? err.message : String(err),
    retryable: true,
    scope: 'item',
    cause: err,
  });
}

const itemError = (e: ProviderError): ItemError => ({
  code: e.code,
  message: e.message,
  retryable: e.retryable,
});

/** Small random addition to server hints, so workers that were told the same wait do not return together. */
const jitter = (ms: number): number => ms + Math.floor(Math.random() * Math.min(1000, ms * 0.1 + 100));

/** A job put back with no hint of how long to wait is fetched again after this (it asks the limiter again). */
export const HAND_BACK_MS = 50;
/**
 * A job waits at most this long on one hint (the key's cooldown keeps the whole hint): the model's
 * other keys, or a fallback, may serve it sooner (the same bound as scheduling.ts MAX_WAIT_MS).
 */
export const MAX_HINTED_DELAY_MS = 60_000;

/**
 * The one place a provider's retry hint (a 429's or a 503's Retry-After / RetryInfo) becomes a wait:
 * the hint plus jitter, or undefined without a hint. Used for the key's cooldown, for the job's
 * delay after a 429, and for the backoff of a retried 503 (workers.ts itemBackoffMs).
 */
export function hintedWaitMs(err: unknown): number | undefined {
  if (!isProviderError(err) || err.retryAfterMs === undefined) return undefined;
  return jitter(err.retryAfterMs);
}

/**
 * Applies the retry policy of design.md: the limiter learns from 429s and quota errors, and the
 * item is retried, made to wait, or failed.
 */
export async function handleFailure(
  err: unknown,
  ctx: {
    limiter: Limiter;
    resourceId: string;
    grantedAt: number;
    attemptsMade: number;
    maxAttempts: number;
    /** The call was the half-open probe of the model's circuit breaker. */
    probe?: boolean;
  },
): Promise<FailureAction> {
  const e = toProviderError(err);
  if (e.code === 'rate_limited') {
    const hinted = hintedWaitMs(e);
    const wait = hinted ?? jitter(fullJitterBackoff(0, { baseMs: 1000, capMs: 60_000 }) ?? 1000);
    await ctx.limiter.cooldown(ctx.resourceId, wait);
    // The limiter tells a lone disagreement at its window's edge from a real limit below the
    // effective one, and learns that limit (ratelimit rateDecrease-2.lua).
    await ctx.limiter.onRateLimited(ctx.resourceId, {
      grantedAt: ctx.grantedAt,
      retryAfterMs: e.retryAfterMs,
    });
    // Hinted: the job itself waits out the hint, instead of being fetched again only to be told to
    // wait by the limiter. Unhinted: back soon (another key may be free).
    const delayMs = hinted === undefined ? HAND_BACK_MS : Math.min(hinted, MAX_HINTED_DELAY_MS);
    return { kind: 'wait', error: itemError(e), delayMs };
  }
  if (e.code === 'quota_exhausted') {
    // Never retried on this key: park it (until the quota resets, when the provider said when). The
    // item goes back to the queue; its next pickup takes another key, moves to a fallback model, or
    // fails with quota_exhausted when every key is parked for good (scheduling.ts whenBlocked).
    await ctx.limiter.park(ctx.resourceId, e.retryAfterMs === undefined ? null : Date.now() + e.retryAfterMs);
    return { kind: 'wait', error: itemError(e), delayMs: HAND_BACK_MS };
  }
  // A failed probe says the model is still down, not that this item is bad: it waits with the others.
  if (ctx.probe === true && countsAgainstCircuit(e))
    return { kind: 'wait', error: itemError(e), delayMs: HAND_BACK_MS };
  if (!e.retryable) return { kind: 'fail', error: itemError(e) };
  if (ctx.attemptsMade + 1 >= ctx.maxAttempts) {
    return {
      kind: 'fail',
      error: { ...itemError(e), message: `${e.message} (gave up after ${ctx.maxAttempts} attempts)` },
    };
  }
  return { kind: 'retry', error: e };
}
