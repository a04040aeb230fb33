/**
 * @module A failed provider call or upload: the retry policy (retry-policy.ts) decides, and this
 * applies its effect on the key (cooldown and AIMD, parking, revocation) to the shared limiter.
 */
import type { Limiter } from '@pixelmill/ratelimit';
import { type RetryDecision, retryPolicy } from './retry-policy.js';

export { HAND_BACK_MS, hintedWaitMs, MAX_HINTED_DELAY_MS } from './retry-policy.js';

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
      // The limiter tells a lone disagreement at its window's edge from a real limit below the
      // effective one, and learns that limit (ratelimit rateDecrease-2.lua).
      await ctx.limiter.onRateLimited(ctx.resourceId, { grantedAt: ctx.grantedAt, retryAfterMs: key.hintMs });
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
