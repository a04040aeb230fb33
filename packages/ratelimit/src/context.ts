/** @module Settings shared by the limiter's operations, resolved once in createLimiter. */
import type { Redis } from 'ioredis';

export interface LimiterOptions {
  /** Namespace of every key; e.g. "pixelmill:rl". */
  prefix: string;
  /**
   * Clock in epoch ms. Default: the Redis server clock, read inside each script, so processes on
   * hosts with drifting clocks agree. Inject one for tests and simulations.
   */
  now?: () => number;
  aimd?: {
    /** Multiplier of the effective rpm on a 429; default 0.5. */
    decreaseFactor?: number;
    /** Share of the declared rpm added per step (at least 1), one step per window; default 1/20. */
    increaseFraction?: number;
    /** Windows after a decrease before the rate steps up again; default 3. */
    holdWindows?: number;
  };
  /** Longest retry hint when waiting for a lease, since leases usually end early; default 250. */
  concurrencyPollMs?: number;
  /** Retry hint while parked indefinitely (only unpark ends it); default 60_000. */
  parkedPollMs?: number;
}

export interface LimiterContext {
  redis: Redis;
  prefix: string;
  /** ARGV value for the scripts' clock: '' means the Redis clock. */
  clockArg(): string;
  decreaseFactor: number;
  increaseFraction: number;
  holdWindows: number;
  concurrencyPollMs: number;
  parkedPollMs: number;
}
