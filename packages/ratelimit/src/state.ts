/** @module Snapshot of one resource for the API and metrics. */

import { replyArray, replyNumber, replyNumberOrNull } from '@pixelmill/redis-scripts';
import type { LimiterContext } from './context.js';
import { ResourceNotConfiguredError } from './errors.js';
import { resourceKeys } from './keys.js';
import { luaScript, runLuaScript } from './lua-script.js';
import type { ResourceState } from './types.js';

export async function resourceState(ctx: LimiterContext, resourceId: string): Promise<ResourceState> {
  const keys = resourceKeys(ctx.prefix, resourceId);
  const r = replyArray(
    await runLuaScript(
      ctx.redis,
      luaScript('state-3.lua'),
      [keys.cfg, keys.win, keys.leases],
      [ctx.clockArg()],
    ),
  );
  if (r[0] === -1) throw new ResourceNotConfiguredError(resourceId);
  const parkedUntil = replyNumberOrNull(r[12]);
  return {
    at: replyNumber(r[1]),
    declared: {
      rpm: replyNumberOrNull(r[2]),
      ipm: replyNumberOrNull(r[3]),
      concurrency: replyNumberOrNull(r[4]),
    },
    windowMs: replyNumber(r[5]),
    effectiveRpm: replyNumberOrNull(r[7]),
    inWindow: replyNumber(r[8]),
    imagesInWindow: replyNumber(r[9]),
    inFlight: replyNumber(r[10]),
    cooldownUntil: replyNumberOrNull(r[11]),
    parkedUntil: parkedUntil !== null && parkedUntil < 0 ? 'indefinite' : parkedUntil,
  };
}
