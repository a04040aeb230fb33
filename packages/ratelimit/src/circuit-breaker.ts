/**
 * @module A circuit breaker per model or provider, shared by all workers through Redis.
 * Closed → open after `failureThreshold` consecutive failures; open for `openMs`; then half-open,
 * where one probe at a time may pass: its success closes the breaker, its failure re-opens it.
 *
 * @example
 * const breaker = createCircuitBreaker(redis, { prefix: 'pixelmill:cb' });
 * if (await breaker.allowRequest('openai')) {
 *   try { await call(); await breaker.recordSuccess('openai'); }
 *   catch (e) { await breaker.recordFailure('openai'); throw e; }
 * }
 */

import { replyArray, replyNumber, replyString } from '@pixelmill/redis-scripts';
import type { Redis } from 'ioredis';
import { circuitKey } from './keys.js';
import { luaScript, runLuaScript } from './lua-script.js';
import { nonEmpty, positiveInt } from './validate.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  prefix: string;
  /** Consecutive failures that open the breaker; default 5. */
  failureThreshold?: number;
  /** How long it stays open before letting a probe through; default 30_000. */
  openMs?: number;
  /** A half-open probe that never reports back frees its turn after this; default 60_000. */
  probeLeaseMs?: number;
  /** Clock in epoch ms; default the Redis server clock. */
  now?: () => number;
}

export interface CircuitDecision {
  allowed: boolean;
  /** The state seen; 'half-open' with allowed = true means this caller holds the probe. */
  state: CircuitState;
  /** When refused: how long until a request might pass (end of open, or of the probe's lease). */
  retryInMs: number;
}

export interface CircuitBreaker {
  /** Closed: true. Open: false. Half-open: true for one probe at a time. */
  allowRequest(id: string): Promise<boolean>;
  /** allowRequest with the state seen and, when refused, how long to wait. */
  allow(id: string): Promise<CircuitDecision>;
  /** Gives back a half-open probe that was never sent, so another caller may probe now. */
  abandonProbe(id: string): Promise<void>;
  recordSuccess(id: string): Promise<CircuitState>;
  recordFailure(id: string): Promise<CircuitState>;
  circuitState(id: string): Promise<CircuitState>;
}

const STATES: readonly string[] = ['closed', 'open', 'half-open'];

function circuitState(value: unknown): CircuitState {
  const state = replyString(value);
  if (!STATES.includes(state)) throw new TypeError(`unknown circuit state: ${state}`);
  return state as CircuitState;
}

export function createCircuitBreaker(redis: Redis, opts: CircuitBreakerOptions): CircuitBreaker {
  const prefix = nonEmpty('prefix', opts.prefix);
  const threshold = positiveInt('failureThreshold', opts.failureThreshold ?? 5);
  const openMs = positiveInt('openMs', opts.openMs ?? 30_000);
  const probeLeaseMs = positiveInt('probeLeaseMs', opts.probeLeaseMs ?? 60_000);
  const { now } = opts;
  const clockArg = now ? () => String(Math.floor(now())) : () => '';
  const keyOf = (id: string) => [circuitKey(prefix, nonEmpty('id', id))];

  const record = async (id: string, outcome: 'success' | 'failure') =>
    circuitState(
      await runLuaScript(redis, luaScript('circuitRecord-1.lua'), keyOf(id), [
        clockArg(),
        outcome,
        threshold,
        openMs,
      ]),
    );

  const allow = async (id: string): Promise<CircuitDecision> => {
    const reply = replyArray(
      await runLuaScript(redis, luaScript('circuitAllow-1.lua'), keyOf(id), [clockArg(), probeLeaseMs]),
    );
    return { allowed: reply[0] === 1, state: circuitState(reply[1]), retryInMs: replyNumber(reply[2]) };
  };

  return {
    allowRequest: async (id) => (await allow(id)).allowed,
    allow,
    abandonProbe: async (id) => {
      await runLuaScript(redis, luaScript('circuitAbandon-1.lua'), keyOf(id), [clockArg()]);
    },
    recordSuccess: (id) => record(id, 'success'),
    recordFailure: (id) => record(id, 'failure'),
    circuitState: async (id) =>
      circuitState(await runLuaScript(redis, luaScript('circuitState-1.lua'), keyOf(id), [clockArg()])),
  };
}
