/**
 * @module A failed provider call or upload: the retry policy (retry-policy.ts) decides, and this
 * applies its effect on the key (cooldown and AIMD, parking, revocation) to the shared limiter.
 */
import type { Limiter } from '@pixelmill/ratelimit';
import { type RetryDecision, retryPolicy } from './retry-policy.js';

export { HAND_BACK_MS, hintedWaitMs, MAX_HINTED_DELAY_MS, toProviderError } from './retry-policy.js';

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

/** Applies the retry policy: the limiter learns from 429s, quota errors and refused keys. */
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
    /** Takes the call's key out of rotation for every model of its provider (key-rotation.ts). */
    revokeKey?: (reason: string) => Promise<void>;
  },
): Promise<RetryDecision['outcome']> {
  const { outcome, key } = retryPolicy(err, ctx);
  switch (key.kind) {
    case 'cooldown':
      await ctx.limiter.cooldown(ctx.resourceId, key.ms);
      if (!(await atWindowEdge(ctx.limiter, ctx.resourceId, key.hintMs)))
        await ctx.limiter.onRateLimited(ctx.resourceId, { grantedAt: ctx.grantedAt });
      break;
    case 'park':
      await ctx.limiter.park(ctx.resourceId, key.untilMs);
      break;
    case 'revoke':
      await ctx.revokeKey?.(key.reason);
      break;
    case 'none':
      break;
  }
  return outcome;
}
