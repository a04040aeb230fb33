/**
 * The issue-14 modes run pixelmill alone: one simulator process, the API and two worker processes,
 * the simulator's per-key counters sampled every 250 ms, and the log lines of pixelmill's processes.
 */
import type { SimStats } from '@pixelmill/provider-sim';
import { call, type Stack, startStack } from '../../support/stack.js';
import { logReport } from './logs.js';
import { type SimProcess, startSimProcess } from './sim-process.js';
import { sleep } from './workload.js';

export interface KeySample {
  t: number;
  requests: number;
  ok: number;
  limited: number;
}

export interface KeySampler {
  /** Per key, in time order. */
  samples: Map<string, KeySample[]>;
  stop(): Promise<SimStats>;
}

export function sampleKeys(sim: SimProcess, keys: string[], everyMs = 250): KeySampler {
  const samples = new Map<string, KeySample[]>(keys.map((k) => [k, []]));
  let last: SimStats | undefined;
  const take = async () => {
    const stats = await sim.stats();
    last = stats;
    const t = Date.now();
    for (const key of keys) {
      const k = stats.byKey[key];
      samples.get(key)?.push({
        t,
        requests: k?.requests ?? 0,
        ok: k?.byStatus['200'] ?? 0,
        limited: k?.byStatus['429'] ?? 0,
      });
    }
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      await take();
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
      await take();
      return last!;
    },
  };
}

/** Sums the keys' samples (all keys are sampled at the same instants). */
export function total(sampler: KeySampler, keys: string[]): KeySample[] {
  const lists = keys.map((k) => sampler.samples.get(k) ?? []);
  return (lists[0] ?? []).map((s, i) => ({
    t: s.t,
    requests: lists.reduce((n, l) => n + (l[i]?.requests ?? 0), 0),
    ok: lists.reduce((n, l) => n + (l[i]?.ok ?? 0), 0),
    limited: lists.reduce((n, l) => n + (l[i]?.limited ?? 0), 0),
  }));
}

/** The counters at time t: the last sample taken at or before it. */
export function at(samples: KeySample[], t: number): KeySample {
  let found = samples[0] ?? { t, requests: 0, ok: 0, limited: 0 };
  for (const s of samples) {
    if (s.t > t) break;
    found = s;
  }
  return found;
}

/** First sample where field reached its final value (±250 ms: the sampling period). */
export function reachedFinal(samples: KeySample[], field: keyof Omit<KeySample, 't'>): number {
  const last = samples[samples.length - 1];
  return samples.find((s) => s[field] === last?.[field])?.t ?? Number.NaN;
}

export async function submit(
  stack: Stack,
  apiKey: string,
  model: string,
  tag: string,
  count: number,
): Promise<string> {
  const res = await call(stack, apiKey, 'POST', '/v1/batches', {
    model,
    items: Array.from({ length: count }, (_, i) => ({
      custom_id: `${tag}-${i}`,
      prompt: `[sim:16x16] ${tag} product shot ${i}`,
    })),
  });
  if (res.status !== 201) throw new Error(`submit ${tag}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.id as string;
}

export interface Finished {
  at: number;
  succeeded: number;
  failed: number;
  /** Error code → failed items. */
  failedCodes: Record<string, number>;
}

export async function waitDone(
  stack: Stack,
  apiKey: string,
  id: string,
  timeoutMs: number,
): Promise<Finished> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(stack, apiKey, 'GET', `/v1/batches/${id}`);
    if (res.json?.status === 'completed') {
      const at = Date.now();
      const failedCodes: Record<string, number> = {};
      if (res.json.counts.failed > 0) {
        const items = await call(stack, apiKey, 'GET', `/v1/batches/${id}/items?status=failed&limit=1000`);
        for (const item of items.json.data as { error: { code: string } | null }[]) {
          const code = item.error?.code ?? 'unknown';
          failedCodes[code] = (failedCodes[code] ?? 0) + 1;
        }
      }
      return { at, succeeded: res.json.counts.succeeded, failed: res.json.counts.failed, failedCodes };
    }
    if (Date.now() > deadline) throw new Error(`batch ${id} not completed within ${timeoutMs} ms`);
    await sleep(500);
  }
}

/** Starts the simulator and the stack, runs fn, stops everything; the logs are read after the stop. */
export async function withStack<T>(
  simEnv: Record<string, string>,
  config: string,
  env: Record<string, string>,
  fn: (stack: Stack, sim: SimProcess) => Promise<T>,
): Promise<{ result: T; logs: ReturnType<typeof logReport>; outputs: { name: string; output: string }[] }> {
  const sim = await startSimProcess(simEnv);
  const stack = await startStack({ workers: 2, config: config.replaceAll('{{SIM_URL}}', sim.url), env });
  let result: T;
  try {
    result = await fn(stack, sim);
  } finally {
    await stack.stop();
    await sim.stop();
  }
  const services = [stack.api, ...stack.workers];
  let workers = 0;
  return {
    result,
    logs: logReport(services),
    outputs: services.map((s) => ({
      name: s.name === 'worker' ? `worker ${++workers}` : s.name,
      output: s.output(),
    })),
  };
}

export const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
export const met = (ok: boolean) => (ok ? 'met' : '**missed**');
