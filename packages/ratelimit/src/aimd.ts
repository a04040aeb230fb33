/**
 * @module AIMD on the effective rpm. A 429 lowers it (rateDecrease-2.lua): to about what the
 * provider took in its window when it refused, at most by the decrease factor (default x0.5, floor
 * minRpm), and not at all for a lone disagreement at the window's edge. Successes raise it again by
 * a step per window toward the declared rpm, after a hold of a few windows (rateIncrease-1.lua).
 * The value lives in Redis, so every worker slows down together after any worker sees a 429.
 */

import { replyArray, replyNumber } from '@pixelmill/redis-scripts';
import type { LimiterContext } from './context.js';
import { resourceKeys } from './keys.js';
import { luaScript, runLuaScript } from './lua-script.js';

export async function onRateLimited(
  ctx: LimiterContext,
  resourceId: string,
  opts: { grantedAt?: number; retryAfterMs?: number } = {},
): Promise<number | undefined> {
  const grantedAt = opts.grantedAt === undefined ? '' : Math.floor(opts.grantedAt);
  const hint = opts.retryAfterMs === undefined ? '' : Math.max(0, Math.floor(opts.retryAfterMs));
  const keys = resourceKeys(ctx.prefix, resourceId);
  const reply = replyArray(
    await runLuaScript(
      ctx.redis,
      luaScript('rateDecrease-2.lua'),
      [keys.cfg, keys.win],
      [ctx.clockArg(), ctx.decreaseFactor, grantedAt, hint],
    ),
  );
  return reply[0] === -1 ? undefined : replyNumber(reply[1]);
}

export async function onSuccess(ctx: LimiterContext, resourceId: string): Promise<number | undefined> {
  const reply = replyArray(
    await runLuaScript(
      ctx.redis,
      luaScript('rateIncrease-1.lua'),
      [resourceKeys(ctx.prefix, resourceId).cfg],
      [ctx.increaseFraction, ctx.clockArg(), ctx.holdWindows],
    ),
  );
  return reply[0] === -1 ? undefined : replyNumber(reply[1]);
}
