/**
 * Real-time mode (issue 14): `pnpm bench:ratelimit --window 60000`.
 * pixelmill alone with 2 keys x 60 requests per real 60 s window, at most 4 calls in flight per
 * key, 2 worker processes, 600 items: about 5 windows. The baseline is the sliding window's lower
 * bound: the n-th request of a key can leave no earlier than floor((n - 1) / R) windows after its
 * first, so the provider span is at least floor((ceil(N / keys) - 1) / R) windows.
 */

import { logTable } from './logs.js';
import {
  type KeySample,
  met,
  pct,
  reachedFinal,
  sampleKeys,
  submit,
  total,
  waitDone,
  withStack,
} from './single-stack.js';
import { LATENCY_MS, MODEL } from './workload.js';

const KEYS = ['rt-key-1', 'rt-key-2'];
const RPM = 60;
const CONCURRENCY = 4;
const WORKER_CONCURRENCY = 32;

export function realTimeConfig(keys: string[], opts: { rpm: number; concurrency: number }): string {
  return `
providers:
  - name: openai
    kind: openai-images
    base_url: "{{SIM_URL}}/v1"
    api_keys: [${keys.join(', ')}]
    models:
      - id: ${MODEL}
        rpm: ${opts.rpm}
        ipm: ${opts.rpm}
        concurrency: ${opts.concurrency}
        timeout_s: 30
`;
}

/** Requests in each window from the first request, and when in the window its last one left. */
export function windowProfile(samples: KeySample[], t0: number, windowMs: number): string[] {
  const rows: string[] = [];
  for (let k = 0; ; k++) {
    const from = t0 + k * windowMs;
    const inWindow = samples.filter((s) => s.t >= from && s.t < from + windowMs);
    if (inWindow.length === 0) break;
    const before = samples.filter((s) => s.t < from).at(-1) ?? { requests: 0, ok: 0, limited: 0 };
    const end = inWindow.at(-1)!;
    const sent = end.requests - before.requests;
    const lastAt = inWindow.find((s) => s.requests === end.requests)?.t ?? from;
    rows.push(
      `| ${k + 1} | ${sent} | ${end.ok - before.ok} | ${end.limited - before.limited} | ${((lastAt - from) / 1000).toFixed(1)} s |`,
    );
  }
  return rows;
}

/** Per key, each run of `rpm` admitted requests: when its first and last arrived, from the key's first. */
export function keyRuns(
  arrivals: Record<string, Array<{ t: number; ok: boolean }>>,
  keys: string[],
  rpm: number,
): string[] {
  const rows: string[] = [];
  for (const key of keys) {
    const list = arrivals[key] ?? [];
    const t0 = list[0]?.t ?? 0;
    const admitted = list.filter((a) => a.ok);
    for (let run = 0; run * rpm < admitted.length; run++) {
      const part = admitted.slice(run * rpm, (run + 1) * rpm);
      const from = part[0]!.t;
      const to = part.at(-1)!.t;
      const refused = list.filter((a) => !a.ok && a.t >= from && a.t <= to).length;
      rows.push(
        `| ${key} | ${run + 1} | ${((from - t0) / 1000).toFixed(2)} s | ${((to - t0) / 1000).toFixed(2)} s | ${refused} |`,
      );
    }
  }
  return rows;
}

export async function runRealTime(opts: { windowMs: number; items?: number }): Promise<void> {
  const windowMs = opts.windowMs;
  const items = opts.items ?? 600;
  const began = Date.now();
  const run = await withStack(
    {
      SIM_SEED: '14',
      SIM_WINDOW_MS: String(windowMs),
      SIM_LATENCY_MS: `${LATENCY_MS.min}-${LATENCY_MS.max}`,
      SIM_LIMITS: JSON.stringify(Object.fromEntries(KEYS.map((k) => [k, { rpm: RPM }]))),
    },
    realTimeConfig(KEYS, { rpm: RPM, concurrency: CONCURRENCY }),
    { PIXELMILL_RATE_WINDOW_MS: String(windowMs), WORKER_CONCURRENCY: String(WORKER_CONCURRENCY) },
    async (stack, sim) => {
      const sampler = sampleKeys(sim, KEYS);
      const submittedAt = Date.now();
      const id = await submit(stack, stack.apiKey, MODEL, 'rt', items);
      const done = await waitDone(stack, stack.apiKey, id, 20 * windowMs + 600_000);
      const stats = await sampler.stop();
      const arrivals = await sim.arrivals();
      return { sampler, submittedAt, done, stats, arrivals };
    },
  );
  const { sampler, submittedAt, done, stats, arrivals } = run.result;
  const all = total(sampler, KEYS);
  const t0 = all.find((s) => s.requests > 0)?.t ?? submittedAt;
  const lastRequest = reachedFinal(all, 'requests');
  const lastOk = reachedFinal(all, 'ok');
  const final = all.at(-1)!;
  const perKeyItems = Math.ceil(items / KEYS.length);
  const lowerBoundMs = Math.floor((perKeyItems - 1) / RPM) * windowMs;
  const spanRatio = (lastRequest - t0) / lowerBoundMs;
  const windows = Math.max(1, Math.min(5, Math.ceil(items / (RPM * KEYS.length))));
  const okIn = (all.filter((s) => s.t <= t0 + windows * windowMs).at(-1) ?? final).ok;
  const utilisation = okIn / (windows * RPM * KEYS.length);
  const share429 = final.requests > 0 ? final.limited / final.requests : 0;
  const inFlight = KEYS.map((k) => stats.byKey[k]?.maxConcurrent ?? 0);
  const windowUse = KEYS.map((k) => stats.byKey[k]?.maxWindowUse ?? 0);
  const logs = run.logs.total;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

  console.log(`
### Rate limits in real time (issue 14)

Command: \`pnpm bench:ratelimit --window ${windowMs}${opts.items ? ` --items ${items}` : ''}\` (${new Date().toISOString().slice(0, 10)}, ${((Date.now() - began) / 1000).toFixed(0)} s)

pixelmill alone: API + 2 worker processes (WORKER_CONCURRENCY ${WORKER_CONCURRENCY}), ${KEYS.length} keys x ${RPM} requests per ${windowMs / 1000} s window,
\`concurrency: ${CONCURRENCY}\` per key, declared = the simulator's limit; simulator latency ${LATENCY_MS.min / 1000}–${LATENCY_MS.max / 1000} s, no faults; ${items} items in one batch.

| measure | result | target | |
|---|---|---|---|
| utilisation: successes in the first ${windows} windows from the first request ÷ limit | ${pct(utilisation)} (${okIn} of ${windows * RPM * KEYS.length}) | ≥ 95 % | ${met(utilisation >= 0.95)} |
| provider span: first → last request at the simulator | ${s(lastRequest - t0)} = ${spanRatio.toFixed(3)}x the lower bound ${s(lowerBoundMs)} | ≤ 1.10x | ${met(spanRatio <= 1.1)} |
| first request → last successful answer | ${s(lastOk - t0)} (${((lastOk - t0) / lowerBoundMs).toFixed(3)}x) | | |
| requests answered 429 | ${pct(share429)} (${final.limited} of ${final.requests}) | ≤ 1 % | ${met(share429 <= 0.01)} |
| most calls in flight per key (allowed ${CONCURRENCY}) | ${inFlight.join(' / ')} | every slot used | ${met(inFlight.every((n) => n >= CONCURRENCY))} |
| most requests in any window per key (limit ${RPM}) | ${windowUse.join(' / ')} | ≤ limit | ${met(windowUse.every((n) => n <= RPM))} |
| items succeeded / failed | ${done.succeeded} / ${done.failed} | 0 failed | ${met(done.failed === 0)} |
| submission → batch completed | ${s(done.at - submittedAt)} | | |
| error / "Missing lock" / "stalled" log lines | ${logs.error} / ${logs.missingLock} / ${logs.stalled} | 0 / 0 / 0 | ${met(logs.error + logs.missingLock + logs.stalled === 0)} |

Per window from the first request (sampled every 250 ms):

| window | requests | 200 | 429 | last request of the window at |
|---|---|---|---|---|
${windowProfile(all, t0, windowMs).join('\n')}

Per key, each run of ${RPM} admitted requests (the sliding window repeats the first run's pace in every
later one): when its first and last request arrived, counted from the key's first request.

| key | run | first at | last at | 429s in the run |
|---|---|---|---|---|
${keyRuns(arrivals, KEYS, RPM).join('\n')}

${logTable(run.logs)}
`);
  console.log(
    JSON.stringify({
      mode: 'realtime',
      utilisation,
      spanRatio,
      spanS: (lastRequest - t0) / 1000,
      lastOkS: (lastOk - t0) / 1000,
      share429,
      inFlight,
      windowUse,
      done,
      logs: run.logs.byProcess,
    }),
  );
}
