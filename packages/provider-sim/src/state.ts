import { Limiter, type LimitTable } from './limits.js';
import { mulberry32 } from './rng.js';
import { Shutdown } from './shutdown.js';
import { StatsRecorder } from './stats.js';

export interface FaultRates {
  http5xx?: number;
  reset?: number;
  hang?: number;
  noImage?: number;
}

export interface SimOptions {
  /** 0 = a free port (default 0). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Seeds the PRNG behind latency and fault draws (default 1: runs are reproducible). */
  seed?: number;
  /** Uniform latency per accepted request, default { min: 0, max: 0 }. */
  latencyMs?: { min: number; max: number };
  /** Probability (0..1) per accepted request of each fault; at most one applies. */
  faults?: FaultRates;
  /** Sliding-window length for RPM limits, default 60_000. */
  windowMs?: number;
  /** `${apiKey}` or `${apiKey}|${model}` → limits; the model-specific field wins; no entry = unlimited. */
  limits?: LimitTable;
  /** Keys that answer the provider's "out of credit" error. */
  depletedKeys?: string[];
  /** Keys that answer the provider's "invalid or revoked API key" error (before any limit). */
  revokedKeys?: string[];
  /** A prompt containing one (case-insensitive) is blocked; default ['forbidden', 'nsfw']. */
  blockedWords?: string[];
}

/** Options that may change while running (POST /__config). */
export type SimConfig = Required<Omit<SimOptions, 'port' | 'host' | 'seed'>>;

export interface SimState {
  config: SimConfig;
  rng: () => number;
  limiter: Limiter;
  stats: StatsRecorder;
  /** Generated PNGs served at /__files/{id}.png (chat "url" style). */
  files: Map<string, Buffer>;
  /** Images generated so far: varies pixels so repeated prompts give distinct images. */
  imageCounter: number;
  /** Images generated per prompt that carries `[blank:<k>]` (image-directives.ts). */
  promptImages: Map<string, number>;
  /** Closed by close(): wakes hanging requests and pending latency sleeps. */
  shutdown: Shutdown;
  now(): number;
}

export const MAX_STORED_FILES = 1000;

function checkRate(name: string, v: number | undefined): void {
  if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`faults.${name} must be within 0..1`);
}

/** Merge a partial config over the current one, validating as we go. */
export function applyConfig(base: SimConfig, patch: Partial<SimConfig>): SimConfig {
  const next: SimConfig = { ...base, ...patch, faults: { ...base.faults, ...patch.faults } };
  for (const [k, v] of Object.entries(next.faults)) checkRate(k, v);
  const { min, max } = next.latencyMs;
  if (!(min >= 0 && max >= min)) throw new RangeError('latencyMs needs 0 <= min <= max');
  if (!(next.windowMs > 0)) throw new RangeError('windowMs must be > 0');
  return next;
}

export function createState(opts: SimOptions = {}): SimState {
  const config = applyConfig(
    {
      latencyMs: { min: 0, max: 0 },
      faults: {},
      windowMs: 60_000,
      limits: {},
      depletedKeys: [],
      revokedKeys: [],
      blockedWords: ['forbidden', 'nsfw'],
    },
    {
      ...(opts.latencyMs && { latencyMs: opts.latencyMs }),
      ...(opts.faults && { faults: opts.faults }),
      ...(opts.windowMs !== undefined && { windowMs: opts.windowMs }),
      ...(opts.limits && { limits: opts.limits }),
      ...(opts.depletedKeys && { depletedKeys: opts.depletedKeys }),
      ...(opts.revokedKeys && { revokedKeys: opts.revokedKeys }),
      ...(opts.blockedWords && { blockedWords: opts.blockedWords }),
    },
  );
  return {
    config,
    rng: mulberry32(opts.seed ?? 1),
    limiter: new Limiter(),
    stats: new StatsRecorder(),
    files: new Map(),
    imageCounter: 0,
    promptImages: new Map(),
    shutdown: new Shutdown(),
    now: () => performance.now(),
  };
}
