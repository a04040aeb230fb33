import type { BatchJobs } from './batch/jobs.js';
import { createBatchJobs } from './batch/jobs.js';
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

/**
 * The batch APIs (batch/), in accelerated time: a job's lines finish evenly over `completionMs` after
 * `validatingMs`; past `expireAfterMs` (0 = never) an unfinished job expires with what finished.
 */
export interface BatchConfig {
  /** Time from creation to the last line done (default 1000 ms; upstream: up to 24 h). */
  completionMs: number;
  /** Time spent validating/pending before any line runs (default 0). */
  validatingMs: number;
  /** A job still running this long after creation expires (default 0 = never). */
  expireAfterMs: number;
  /** Probability per line of a retryable server error in the results (default 0). */
  lineErrorRate: number;
  /** Probability that a create is done but answers 503 (the caller does not learn the job's id). */
  createLostRate: number;
  /** Probability that any batch or files call answers 503 before doing anything (default 0). */
  http5xxRate: number;
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
  /** Batch API timing and faults (BatchConfig); each field optional. */
  batch?: Partial<BatchConfig>;
}

/** Options that may change while running (POST /__config). */
export type SimConfig = Required<Omit<SimOptions, 'port' | 'host' | 'seed' | 'batch'>> & {
  batch: BatchConfig;
};

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
  /** Files and jobs of the two batch APIs (batch/). */
  batches: BatchJobs;
  /** Closed by close(): wakes hanging requests and pending latency sleeps. */
  shutdown: Shutdown;
  now(): number;
}

export const MAX_STORED_FILES = 1000;

function checkRate(name: string, v: number | undefined): void {
  if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`faults.${name} must be within 0..1`);
}

/** Merge a partial config over the current one, validating as we go. */
export function applyConfig(
  base: SimConfig,
  patch: Partial<Omit<SimConfig, 'batch'>> & { batch?: Partial<BatchConfig> },
): SimConfig {
  const next: SimConfig = {
    ...base,
    ...patch,
    faults: { ...base.faults, ...patch.faults },
    batch: { ...base.batch, ...patch.batch },
  };
  for (const name of ['lineErrorRate', 'createLostRate', 'http5xxRate'] as const) {
    checkRate(`batch.${name}`, next.batch[name]);
  }
  for (const name of ['completionMs', 'validatingMs', 'expireAfterMs'] as const) {
    if (!(next.batch[name] >= 0)) throw new RangeError(`batch.${name} must be >= 0`);
  }
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
      batch: {
        completionMs: 1000,
        validatingMs: 0,
        expireAfterMs: 0,
        lineErrorRate: 0,
        createLostRate: 0,
        http5xxRate: 0,
      },
    },
    {
      ...(opts.latencyMs && { latencyMs: opts.latencyMs }),
      ...(opts.faults && { faults: opts.faults }),
      ...(opts.windowMs !== undefined && { windowMs: opts.windowMs }),
      ...(opts.limits && { limits: opts.limits }),
      ...(opts.depletedKeys && { depletedKeys: opts.depletedKeys }),
      ...(opts.revokedKeys && { revokedKeys: opts.revokedKeys }),
      ...(opts.blockedWords && { blockedWords: opts.blockedWords }),
      ...(opts.batch && { batch: opts.batch }),
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
    batches: createBatchJobs(),
    shutdown: new Shutdown(),
    now: () => performance.now(),
  };
}
