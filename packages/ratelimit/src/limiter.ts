/**
 * @module createLimiter: distributed RPM / IPM sliding windows, concurrency leases, cooldowns,
 * parking and AIMD per resource (provider + model + key), all held in Redis so that every
 * worker process shares one view of each provider's quota.
 *
 * @example
 * const limiter = createLimiter(redis, { prefix: 'pixelmill:rl' });
 * await limiter.configure({ id: 'gemini|gemini-3-pro-image|key0', rpm: 20, concurrency: 10 });
 * const slot = await limiter.tryAcquire('gemini|gemini-3-pro-image|key0', { leaseMs: 300_000, holder: 'w1' });
 * if (slot.ok) {
 *   try { await generate(); } finally { await limiter.release('gemini|gemini-3-pro-image|key0', slot.leaseId); }
 * }
 */

import { replyNumber } from '@pixelmill/redis-scripts';
import type { Redis } from 'ioredis';
import { pickAndAcquire, tryAcquire } from './acquire.js';
import { onRateLimited, onSuccess } from './aimd.js';
import type { LimiterContext, LimiterOptions } from './context.js';
import { resourceKeys } from './keys.js';
import { luaScript, runLuaScript } from './lua-script.js';
import { resourceState } from './state.js';
import type { Limiter, ResourceLimits } from './types.js';
import { fraction, nonEmpty, nonNegativeInt, nonNegativeMs, positiveInt } from './validate.js';

export const DEFAULT_WINDOW_MS = 60_000;

function atLeastOne(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 1))
    throw new RangeError(`${name} must be a number >= 1, got ${value}`);
  return value;
}

function optionalInt(name: string, value: number | undefined): number | '' {
  return value === undefined ? '' : positiveInt(name, value);
}

async function configure(ctx: LimiterContext, limits: ResourceLimits): Promise<void> {
  const { rpm, minRpm } = limits;
  if (minRpm !== undefined && rpm !== undefined && minRpm > rpm) {
    throw new RangeError(`minRpm (${minRpm}) exceeds rpm (${rpm})`);
  }
  const args = [
    optionalInt('rpm', rpm),
    optionalInt('ipm', limits.ipm),
    optionalInt('concurrency', limits.concurrency),
    positiveInt('windowMs', limits.windowMs ?? DEFAULT_WINDOW_MS),
    optionalInt('minRpm', minRpm),
    limits.burst === undefined ? '' : atLeastOne('burst', limits.burst),
  ];
  const keys = resourceKeys(ctx.prefix, nonEmpty('id', limits.id));
  await runLuaScript(ctx.redis, luaScript('configure-1.lua'), [keys.cfg], args);
}

async function extend(ctx: LimiterContext, resourceId: string, leaseId: string, leaseMs: number) {
  const reply = await runLuaScript(
    ctx.redis,
    luaScript('extend-1.lua'),
    [resourceKeys(ctx.prefix, resourceId).leases],
    [ctx.clockArg(), leaseId, positiveInt('leaseMs', leaseMs)],
  );
  return reply === 1;
}

async function sent(ctx: LimiterContext, resourceId: string, leaseId: string, images: number) {
  const keys = resourceKeys(ctx.prefix, resourceId);
  const member = `${nonEmpty('leaseId', leaseId)}#${positiveInt('images', images)}`;
  const reply = await runLuaScript(
    ctx.redis,
    luaScript('sent-2.lua'),
    [keys.cfg, keys.win],
    [ctx.clockArg(), member],
  );
  return reply === 1;
}

async function withdraw(ctx: LimiterContext, resourceId: string, leaseId: string, images: number) {
  const keys = resourceKeys(ctx.prefix, resourceId);
  const member = `${nonEmpty('leaseId', leaseId)}#${positiveInt('images', images)}`;
  const reply = await runLuaScript(
    ctx.redis,
    luaScript('withdraw-3.lua'),
    [keys.cfg, keys.win, keys.leases],
    [member, leaseId],
  );
  return reply === 1;
}

async function cooldown(ctx: LimiterContext, resourceId: string, ms: number): Promise<number> {
  const reply = await runLuaScript(
    ctx.redis,
    luaScript('cooldown-1.lua'),
    [resourceKeys(ctx.prefix, resourceId).cfg],
    [ctx.clockArg(), nonNegativeMs('ms', ms)],
  );
  return replyNumber(reply);
}

export function createLimiter(redis: Redis, opts: LimiterOptions): Limiter {
  const { now } = opts;
  const ctx: LimiterContext = {
    redis,
    prefix: nonEmpty('prefix', opts.prefix),
    clockArg: now ? () => String(Math.floor(now())) : () => '',
    decreaseFactor: fraction('aimd.decreaseFactor', opts.aimd?.decreaseFactor ?? 0.5),
    increaseFraction: fraction('aimd.increaseFraction', opts.aimd?.increaseFraction ?? 1 / 20),
    holdWindows: nonNegativeInt('aimd.holdWindows', opts.aimd?.holdWindows ?? 3),
    concurrencyPollMs: positiveInt('concurrencyPollMs', opts.concurrencyPollMs ?? 250),
    parkedPollMs: positiveInt('parkedPollMs', opts.parkedPollMs ?? 60_000),
  };
  const cfgKey = (id: string) => resourceKeys(ctx.prefix, id).cfg;

  return {
    configure: (limits) => configure(ctx, limits),
    tryAcquire: (id, acquireOpts) => tryAcquire(ctx, id, acquireOpts),
    pickAndAcquire: (ids, acquireOpts) => pickAndAcquire(ctx, ids, acquireOpts),
    sent: (id, leaseId, images = 1) => sent(ctx, id, leaseId, images),
    // The request still counts against rpm/ipm: it was sent. Only the concurrency slot returns.
    release: async (id, leaseId) => (await redis.zrem(resourceKeys(ctx.prefix, id).leases, leaseId)) === 1,
    withdraw: (id, leaseId, images = 1) => withdraw(ctx, id, leaseId, images),
    extend: (id, leaseId, leaseMs) => extend(ctx, id, leaseId, leaseMs),
    cooldown: (id, ms) => cooldown(ctx, id, ms),
    // -1 marks "until unpark"; single commands are atomic, no script needed.
    park: async (id, untilMs) => {
      await redis.hset(cfgKey(id), 'parkedUntil', untilMs === null ? -1 : nonNegativeMs('untilMs', untilMs));
    },
    unpark: async (id) => {
      await redis.hdel(cfgKey(id), 'parkedUntil');
    },
    onRateLimited: (id, rlOpts) => onRateLimited(ctx, id, rlOpts),
    onSuccess: (id) => onSuccess(ctx, id),
    state: (id) => resourceState(ctx, id),
  };
}
