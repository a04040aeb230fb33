import { type ItemError, isProviderError, ProviderError } from '@pixelmill/core';
import type { Limiter } from '@pixelmill/ratelimit';
import { fullJitterBackoff } from '@pixelmill/ratelimit';
import { countsAgainstCircuit } from './scheduling.js';

/** What the processor does next after a failed provider call or upload. */
export type FailureAction =
  /** Slow down and put the job back without spending an attempt (429, a parked key with others left). */
  | { kind: 'wait'; error: ItemError }
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

/**
 * Was this 429 a disagreement at the window's edge rather than a limit lower than declared? Our
 * window already held its whole rate when the provider refused (the provider counts a request when
 * it arrives, a little after our grant and not always with the same delay), or the hint is a small
 * part of the window (under 5 %). Then a cooldown for the hint is all it needs: the rate is right,
 * and halving it (AIMD) would only lose throughput. A refusal while our window still had room means
 * the provider allows less than declared: that lowers the rate.
 */
async function atWindowEdge(
  limiter: Limiter,
  resourceId: string,
  hintMs: number | undefined,
): Promise<boolean> {
  const state = await limiter.state(resourceId);
  if (state.effectiveRpm !== null && state.inWindow >= state.effectiveRpm) return true;
  return hintMs !== undefined && hintMs < state.windowMs / 20;
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
    const wait = e.retryAfterMs ?? fullJitterBackoff(0, { baseMs: 1000, capMs: 60_000 }) ?? 1000;
    await ctx.limiter.cooldown(ctx.resourceId, jitter(wait));
    if (!(await atWindowEdge(ctx.limiter, ctx.resourceId, e.retryAfterMs)))
      await ctx.limiter.onRateLimited(ctx.resourceId, { grantedAt: ctx.grantedAt });
    return { kind: 'wait', error: itemError(e) };
  }
  if (e.code === 'quota_exhausted') {
    // Never retried on this key: park it (until the quota resets, when the provider said when). The
    // item goes back to the queue; its next pickup takes another key, moves to a fallback model, or
    // fails with quota_exhausted when every key is parked for good (scheduling.ts whenBlocked).
    await ctx.limiter.park(ctx.resourceId, e.retryAfterMs === undefined ? null : Date.now() + e.retryAfterMs);
    return { kind: 'wait', error: itemError(e) };
  }
  // A failed probe says the model is still down, not that this item is bad: it waits with the others.
  if (ctx.probe === true && countsAgainstCircuit(e)) return { kind: 'wait', error: itemError(e) };
  if (!e.retryable) return { kind: 'fail', error: itemError(e) };
  if (ctx.attemptsMade + 1 >= ctx.maxAttempts) {
    return {
      kind: 'fail',
      error: { ...itemError(e), message: `${e.message} (gave up after ${ctx.maxAttempts} attempts)` },
    };
  }
  return { kind: 'retry', error: e };
}
