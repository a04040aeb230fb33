/**
 * The one workload every contender of the rate-limit benchmark runs, and what is measured of it.
 * Every contender has its own two keys on the same simulator, with the same per-key limit, the
 * same (compressed) window, latency and fault rate, and runs at the same time as the others.
 */
import type { SimStats } from '@pixelmill/provider-sim';

const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

/** The simulator's (and every contender's) window: a "minute" compressed to 6 s to fit the run. */
export const WINDOW_MS = num('BENCH_WINDOW_MS', 6_000);
/** Requests per window per key (30 per 6 s = 300 per minute per key). */
export const PER_KEY = num('BENCH_PER_KEY', 30);
const KEYS_PER_CONTENDER = 2;
/** Total limit of one contender in requests per second. */
export const TOTAL_PER_S = (PER_KEY * KEYS_PER_CONTENDER * 1000) / WINDOW_MS;
export const BIG_ITEMS = num('BENCH_ITEMS', 1_000);
export const SMALL_ITEMS = 10;
/** The small batch (another tenant) arrives this long after the big one. */
export const SMALL_AT_MS = num('BENCH_SMALL_AT_MS', 20_000);
export const LATENCY_MS = { min: 500, max: 2_000 };
export const HTTP_5XX = 0.02;
export const MODEL = 'gpt-image-1-mini';

export const contenders = ['pixelmill', 'naive', 'bullmq'] as const;
export type Contender = (typeof contenders)[number];

export const keysOf = (c: Contender): string[] =>
  Array.from({ length: KEYS_PER_CONTENDER }, (_, i) => `bench-${c}-${i + 1}`);

export const prompt = (tag: string, i: number): string => `[sim:16x16] ${tag} product shot ${i}`;

/** What a contender reports about its own run (epoch ms). */
export interface RunReport {
  startedAt: number;
  /** The big batch was accepted (pixelmill: its 201; the others: at once). */
  acceptedAt: number;
  /** The last item of both batches ended (succeeded or given up); pixelmill: both batches completed. */
  endedAt: number;
  succeeded: number;
  failed: number;
  /** pixelmill only: its own timestamps of the first item start, the last item end, the batch's completion, and when the poller saw it. */
  phases?: { firstStartAt: number; lastEndAt: number; completedAt: number; polledAt: number };
  /** pixelmill only: the last items to end (epoch ms) and their attempts. */
  tail?: { endedAt: number; attempts: number }[];
  /** acceptedAt: when the submission returned (the API's 201; at once for the in-process contenders). */
  small: { submittedAt: number; acceptedAt: number; firstStartAt: number; doneAt: number } | null;
}

export interface Sample {
  t: number;
  ok: number;
  limited: number;
  requests: number;
}

/** Polls the simulator's counters for every contender's keys. */
export function startSampler(readStats: () => Promise<SimStats>, everyMs = 250) {
  const samples = new Map<Contender, Sample[]>(contenders.map((c) => [c, []]));
  const take = async () => {
    const stats = await readStats();
    const t = Date.now();
    for (const c of contenders) {
      let ok = 0;
      let limited = 0;
      let requests = 0;
      for (const key of keysOf(c)) {
        const k = stats.byKey[key];
        ok += k?.byStatus['200'] ?? 0;
        limited += k?.byStatus['429'] ?? 0;
        requests += k?.requests ?? 0;
      }
      samples.get(c)?.push({ t, ok, limited, requests });
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
    },
  };
}

/** Successful requests per second between two times, from the samples nearest to them. */
function okRate(samples: Sample[], from: number, to: number): number {
  const at = (t: number) =>
    samples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best));
  const a = at(from);
  const b = at(to);
  return b.t > a.t ? ((b.ok - a.ok) * 1000) / (b.t - a.t) : 0;
}

export interface Result {
  contender: Contender;
  utilisation: number;
  share429: number;
  maxWindowUse: number[];
  makespanS: number;
  /** From the big batch's acceptance, for pixelmill whose API takes a while to accept 1,000 items. */
  makespanAfterAcceptS: number;
  /** From the start to the last successful provider answer (sampled): the provider-bound part. */
  lastSuccessS: number;
  idealS: number;
  succeeded: number;
  failed: number;
  smallWaitS: number | null;
  smallFirstStartS: number | null;
  requests: number;
  /** CPU seconds the contender's own processes used during the run (null: not measurable). */
  cpuS: number | null;
  /** Seconds from the start: first item started, last item ended, batch completed (pixelmill). */
  phasesS: { firstStart: number; lastEnd: number; completed: number; polled: number } | null;
  /** pixelmill only: the last items to end, seconds from the start, with their attempts. */
  tailS: { ended: number; attempts: number }[] | null;
}

export function summarise(
  c: Contender,
  run: RunReport,
  samples: Sample[],
  stats: SimStats,
  cpuS: number | null,
): Result {
  const last = samples[samples.length - 1] ?? { ok: 0, limited: 0, requests: 0 };
  // Steady part: after the first window (an empty window lets a burst through) and before the
  // last one (the backlog runs out).
  const steadyFrom = run.startedAt + WINDOW_MS;
  const steadyTo = run.endedAt - WINDOW_MS;
  const rate = steadyTo > steadyFrom ? okRate(samples, steadyFrom, steadyTo) : Number.NaN;
  return {
    contender: c,
    utilisation: rate / TOTAL_PER_S,
    share429: last.requests > 0 ? last.limited / last.requests : 0,
    maxWindowUse: keysOf(c).map((k) => stats.byKey[k]?.maxWindowUse ?? 0),
    makespanS: (run.endedAt - run.startedAt) / 1000,
    makespanAfterAcceptS: (run.endedAt - run.acceptedAt) / 1000,
    lastSuccessS: ((samples.find((x) => x.ok === last.ok)?.t ?? run.endedAt) - run.startedAt) / 1000,
    idealS: (BIG_ITEMS + SMALL_ITEMS) / TOTAL_PER_S,
    succeeded: run.succeeded,
    failed: run.failed,
    smallWaitS: run.small ? (run.small.doneAt - run.small.submittedAt) / 1000 : null,
    smallFirstStartS: run.small ? (run.small.firstStartAt - run.small.submittedAt) / 1000 : null,
    requests: last.requests,
    cpuS,
    tailS: run.tail
      ? run.tail.map((t) => ({ ended: (t.endedAt - run.startedAt) / 1000, attempts: t.attempts }))
      : null,
    phasesS: run.phases
      ? {
          firstStart: (run.phases.firstStartAt - run.startedAt) / 1000,
          lastEnd: (run.phases.lastEndAt - run.startedAt) / 1000,
          completed: (run.phases.completedAt - run.startedAt) / 1000,
          polled: (run.phases.polledAt - run.startedAt) / 1000,
        }
      : null,
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
