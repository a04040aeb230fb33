/** @module tryAcquire and pickAndAcquire: one atomic Lua call each. */
import { randomUUID } from 'node:crypto';
import { replyArray, replyNumber, replyString } from '@pixelmill/redis-scripts';
import type { LimiterContext } from './context.js';
import { ImagesExceedLimitError, ResourceNotConfiguredError } from './errors.js';
import { resourceKeys } from './keys.js';
import { luaScript, runLuaScript } from './lua-script.js';
import type { AcquireOptions, AcquireResult, DenyReason, PickResult } from './types.js';
import { nonEmpty, positiveInt } from './validate.js';

const DENY_REASONS: readonly string[] = ['rpm', 'ipm', 'concurrency', 'cooldown', 'parked'];

function denyReason(value: unknown): DenyReason {
  const reason = replyString(value);
  if (!DENY_REASONS.includes(reason)) throw new TypeError(`unknown deny reason: ${reason}`);
  return reason as DenyReason;
}

/** ARGV[1..6] shared by tryAcquire-3 and pickAndAcquire-3n. */
function acquireArgs(ctx: LimiterContext, opts: AcquireOptions, leaseId: string): (string | number)[] {
  return [ctx.clockArg(), opts.images ?? 1, opts.leaseMs, leaseId, ctx.concurrencyPollMs, ctx.parkedPollMs];
}

function checkOptions(opts: AcquireOptions): void {
  positiveInt('images', opts.images ?? 1);
  positiveInt('leaseMs', opts.leaseMs);
  nonEmpty('holder', opts.holder);
}

export async function tryAcquire(
  ctx: LimiterContext,
  resourceId: string,
  opts: AcquireOptions,
): Promise<AcquireResult> {
  checkOptions(opts);
  const leaseId = `${opts.holder}:${randomUUID()}`;
  const keys = resourceKeys(ctx.prefix, nonEmpty('resourceId', resourceId));
  const reply = replyArray(
    await runLuaScript(
      ctx.redis,
      luaScript('tryAcquire-3.lua'),
      [keys.cfg, keys.win, keys.leases],
      acquireArgs(ctx, opts, leaseId),
    ),
  );
  switch (reply[0]) {
    case 1:
      return { ok: true, leaseId, grantedAt: replyNumber(reply[1]) };
    case 0:
      return { ok: false, reason: denyReason(reply[1]), retryInMs: replyNumber(reply[2]) };
    case -1:
      throw new ResourceNotConfiguredError(resourceId);
    case -2:
      throw new ImagesExceedLimitError(resourceId, opts.images ?? 1, replyNumber(reply[1]));
    default:
      throw new TypeError(`unexpected tryAcquire reply: ${JSON.stringify(reply)}`);
  }
}

/**
 * Key rotation in one Lua call: among the resources that can grant now, the one with the most
 * headroom wins (ties: earlier in the list); otherwise the shortest wait among them.
 */
export async function pickAndAcquire(
  ctx: LimiterContext,
  resourceIds: readonly string[],
  opts: AcquireOptions,
): Promise<PickResult> {
  checkOptions(opts);
  // A duplicate would be evaluated twice against one set of keys; it adds nothing.
  const ids = [...new Set(resourceIds)];
  if (ids.length === 0) throw new RangeError('pickAndAcquire needs at least one resource');
  const keys = ids.flatMap((id) => {
    const k = resourceKeys(ctx.prefix, nonEmpty('resourceId', id));
    return [k.cfg, k.win, k.leases];
  });
  const leaseId = `${opts.holder}:${randomUUID()}`;
  const reply = replyArray(
    await runLuaScript(ctx.redis, luaScript('pickAndAcquire-3n.lua'), keys, acquireArgs(ctx, opts, leaseId)),
  );
  const idAt = (value: unknown): string => ids[replyNumber(value) - 1]!;
  switch (reply[0]) {
    case 1:
      return { ok: true, resourceId: idAt(reply[1]), leaseId, grantedAt: replyNumber(reply[2]) };
    case 0:
      return {
        ok: false,
        resourceId: idAt(reply[3]),
        reason: denyReason(reply[1]),
        retryInMs: replyNumber(reply[2]),
      };
    case -1:
      throw new ResourceNotConfiguredError(idAt(reply[1]));
    case -2:
      throw new ImagesExceedLimitError(idAt(reply[1]), opts.images ?? 1, replyNumber(reply[2]));
    default:
      throw new TypeError(`unexpected pickAndAcquire reply: ${JSON.stringify(reply)}`);
  }
}
