/**
 * @module AIMD on the effective rpm: a 429 multiplies it (default ×0.5, floor minRpm), each
 * success adds a step back toward the declared rpm. The value lives in Redis, so every worker
 * slows down together after any worker sees a 429.
 */
import type { LimiterContext } from './context.js';
import { resourceKeys } from './keys.js';
import { luaScript, runLuaScript } from './lua-script.js';
import { replyArray, replyNumber } from './reply.js';

export async function onRateLimited(
  ctx: LimiterContext,
  resourceId: string,
  opts: { grantedAt?: number } = {},
): Promise<number | undefined> {
  const grantedAt = opts.grantedAt === undefined ? '' : Math.floor(opts.grantedAt);
  const reply = replyArray(
    await runLuaScript(
      ctx.redis,
      luaScript('rateDecrease-1.lua'),
      [resourceKeys(ctx.prefix, resourceId).cfg],
      [ctx.clockArg(), ctx.decreaseFactor, grantedAt],
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
      [ctx.increaseFraction],
    ),
  );
  return reply[0] === -1 ? undefined : replyNumber(reply[1]);
}
