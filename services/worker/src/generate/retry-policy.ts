/**
 * @module The retry policy (docs/design.md, docs/reliability.md) as a pure function: what a failed
 * provider call or upload means for the item (its outcome) and for the key it used (its effect).
 * Nothing here touches Redis or BullMQ; handle-failure.ts applies the key's effect.
 */
import { type ItemError, isKeyRefusal, isProviderError, ProviderError } from '@pixelmill/core';
import { fullJitterBackoff } from '@pixelmill/ratelimit';
import { countsAgainstCircuit } from './circuit-policy.js';
import type { Outcome } from './outcome.js';

/** What the failure does to the key the call used. */
export type KeyEffect =
  | { kind: 'none' }
  /** Nobody uses the key for ms (a 429); its rate may be lowered too (AIMD, handle-failure.ts). */
  | { kind: 'cooldown'; ms: number; hintMs: number | undefined }
  /** Out of quota: parked until untilMs (epoch), or with null until unparked. */
  | { kind: 'park'; untilMs: number | null }
  /** Invalid, revoked or forbidden: out of rotation for every model of the provider. */
  | { kind: 'revoke'; reason: string };

export interface RetryDecision {
  outcome: Extract<Outcome, { kind: 'wait' | 'retry' | 'fail' }>;
  key: KeyEffect;
}

export interface RetryContext {
  /** Attempts BullMQ counted before this one (0 on the first). */
  attemptsMade: number;
  maxAttempts: number;
  /** The call was the half-open probe of the model's circuit breaker. */
  probe?: boolean | undefined;
  now?: number | undefined;
  /** Source of jitter, in [0, 1). */
  random?: (() => number) | undefined;
}

/** A job put back with no hint of how long to wait is fetched again after this (it asks the limiter again). */
export const HAND_BACK_MS = 50;
/**
 * A job waits at most this long on one hint (the key's cooldown keeps the whole hint): the model's
 * other keys, or a fallback, may serve it sooner (the same bound as capacity.ts MAX_WAIT_MS).
 */
export const MAX_HINTED_DELAY_MS = 60_000;

/** Small random addition to server hints, so workers that were told the same wait do not return together. */
function jitter(ms: number, random: () => number = Math.random): number {
  return ms + Math.floor(random() * Math.min(1000, ms * 0.1 + 100));
}

/**
 * The one place a provider's retry hint (a 429's or a 503's Retry-After / RetryInfo) becomes a wait:
 * the hint plus jitter, or undefined without a hint. Used for the key's cooldown, for the job's
 * delay after a 429, and for the backoff of a retried 503 (workers.ts itemBackoffMs).
 */
export function hintedWaitMs(err: unknown, random?: () => number): number | undefined {
  if (!isProviderError(err) || err.retryAfterMs === undefined) return undefined;
  return jitter(err.retryAfterMs, random);
}

/** What a refused key's Redis mark and warning name as the reason: the provider's code, else the status. */
export function keyRefusalReason(e: ProviderError): string {
  return e.providerCode ?? String(e.status ?? e.code);
}

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

/**
 * What a failure means. Waiting (no attempt spent): a 429 (the key cools down for the hint, or a
 * jittered backoff), a key out of quota (parked) or refused (revoked) while other keys or a
 * fallback may serve, a failed circuit probe. Failing: anything not retryable, or the last attempt.
 * Otherwise the attempt is spent and BullMQ retries after its backoff.
 */
export function retryPolicy(err: unknown, ctx: RetryContext): RetryDecision {
  const e = toProviderError(err);
  const random = ctx.random ?? Math.random;
  const now = ctx.now ?? Date.now();
  const wait = (ms: number) => ({
    kind: 'wait' as const,
    ms,
    refundAttempt: true,
    error: itemError(e),
    via: 'job' as const,
  });
  if (e.code === 'rate_limited') {
    const hinted = hintedWaitMs(e, random);
    const ms =
      hinted ?? jitter(fullJitterBackoff(0, { baseMs: 1000, capMs: 60_000, random }) ?? 1000, random);
    // Hinted: the job itself waits out the hint, instead of being fetched again only to be told to
    // wait by the limiter. Unhinted: back soon (another key may be free).
    return {
      outcome: wait(hinted === undefined ? HAND_BACK_MS : Math.min(hinted, MAX_HINTED_DELAY_MS)),
      key: { kind: 'cooldown', ms, hintMs: e.retryAfterMs },
    };
  }
  if (e.code === 'quota_exhausted') {
    // Never retried on this key: parked (until the quota resets, when the provider said when). The
    // next pickup takes another key, moves to a fallback model, or fails with quota_exhausted when
    // every key is parked for good (fallback.ts whenBlocked).
    const untilMs = e.retryAfterMs === undefined ? null : now + e.retryAfterMs;
    return { outcome: wait(HAND_BACK_MS), key: { kind: 'park', untilMs } };
  }
  if (isKeyRefusal(e)) {
    // The key, not the item: the next pickup takes another key of the provider, a fallback, or waits.
    return {
      outcome: wait(HAND_BACK_MS),
      key: { kind: 'revoke', reason: keyRefusalReason(e) },
    };
  }
  const none = { kind: 'none' as const };
  // A failed probe says the model is still down, not that this item is bad: it waits with the others.
  if (ctx.probe === true && countsAgainstCircuit(e)) return { outcome: wait(HAND_BACK_MS), key: none };
  if (!e.retryable) return { outcome: { kind: 'fail', error: itemError(e) }, key: none };
  if (ctx.attemptsMade + 1 >= ctx.maxAttempts) {
    const message = `${e.message} (gave up after ${ctx.maxAttempts} attempts)`;
    return { outcome: { kind: 'fail', error: { ...itemError(e), message } }, key: none };
  }
  return { outcome: { kind: 'retry', error: e }, key: none };
}
