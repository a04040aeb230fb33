import type { SimOptions } from './state.js';

function num(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${v}"`);
  return n;
}

function parseJson<T>(name: string, v: string): T {
  try {
    return JSON.parse(v) as T;
  } catch {
    throw new Error(`${name} must be JSON, got "${v}"`);
  }
}

/**
 * Options for the standalone server: SIM_PORT (default 8090), SIM_HOST, SIM_SEED,
 * SIM_LATENCY_MS ("min-max" or "ms"), SIM_WINDOW_MS, SIM_LIMITS, SIM_FAULTS and SIM_BATCH (JSON),
 * SIM_DEPLETED_KEYS, SIM_REVOKED_KEYS and SIM_BLOCKED_WORDS (comma-separated).
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv): SimOptions {
  const opts: SimOptions = { port: env.SIM_PORT ? num('SIM_PORT', env.SIM_PORT) : 8090 };
  if (env.SIM_HOST) opts.host = env.SIM_HOST;
  if (env.SIM_SEED) opts.seed = num('SIM_SEED', env.SIM_SEED);
  if (env.SIM_LATENCY_MS) {
    const [min, max = min] = env.SIM_LATENCY_MS.split('-').map((s) => num('SIM_LATENCY_MS', s.trim()));
    opts.latencyMs = { min: min ?? 0, max: max ?? 0 };
  }
  if (env.SIM_WINDOW_MS) opts.windowMs = num('SIM_WINDOW_MS', env.SIM_WINDOW_MS);
  if (env.SIM_LIMITS) opts.limits = parseJson('SIM_LIMITS', env.SIM_LIMITS);
  if (env.SIM_FAULTS) opts.faults = parseJson('SIM_FAULTS', env.SIM_FAULTS);
  if (env.SIM_BATCH) opts.batch = parseJson('SIM_BATCH', env.SIM_BATCH);
  const list = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (env.SIM_DEPLETED_KEYS) opts.depletedKeys = list(env.SIM_DEPLETED_KEYS);
  if (env.SIM_REVOKED_KEYS) opts.revokedKeys = list(env.SIM_REVOKED_KEYS);
  if (env.SIM_BLOCKED_WORDS) opts.blockedWords = list(env.SIM_BLOCKED_WORDS);
  return opts;
}
