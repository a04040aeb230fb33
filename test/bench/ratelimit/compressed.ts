/**
 * Rate-limit benchmark, compressed mode (issue 5): `pnpm bench:ratelimit`.
 *
 * Three contenders run the same workload at the same time against one provider simulator (OpenAI
 * Images wire format), each with its own two keys under the same per-key sliding-window limit:
 *   (a) pixelmill: API + two worker processes (shared Redis limiter, fair queuing);
 *   (b) naive: openai SDK with default retries + p-limit;
 *   (c) BullMQ's built-in limiter set to the declared rate, two worker processes.
 * Workload: a 1,000-item batch of tenant A, then 20 s later a 10-item batch of tenant B.
 * Prints a Markdown section for BENCHMARKS.md and the raw numbers as JSON.
 */
import { writeFileSync } from 'node:fs';
import { REDIS_URL, startStack } from '../../support/stack.js';
import { BULLMQ_CONCURRENCY, startBullmq } from './bullmq.js';
import { cpuSeconds, totalCpu } from './cpu.js';
import { logReport, logTable } from './logs.js';
import { NAIVE_CONCURRENCY, runNaive } from './naive.js';
import { pixelmillConfig, runPixelmill } from './pixelmill.js';
import { keyRuns } from './realtime.js';
import { startSimProcess } from './sim-process.js';
import { traceLimits } from './trace.js';
import {
  BIG_ITEMS,
  contenders,
  HTTP_5XX,
  keysOf,
  LATENCY_MS,
  PER_KEY,
  type Result,
  SMALL_AT_MS,
  SMALL_ITEMS,
  startSampler,
  summarise,
  TOTAL_PER_S,
  WINDOW_MS,
} from './workload.js';

const WORKER_CONCURRENCY = 32;
const began = Date.now();
const limits = Object.fromEntries(contenders.flatMap((c) => keysOf(c).map((k) => [k, { rpm: PER_KEY }])));

const sim = await startSimProcess({
  SIM_SEED: '5',
  SIM_WINDOW_MS: String(WINDOW_MS),
  SIM_LATENCY_MS: `${LATENCY_MS.min}-${LATENCY_MS.max}`,
  SIM_FAULTS: JSON.stringify({ http5xx: HTTP_5XX }),
  SIM_LIMITS: JSON.stringify(limits),
});
const stack = await startStack({
  workers: 2,
  config: pixelmillConfig(keysOf('pixelmill')).replaceAll('{{SIM_URL}}', sim.url),
  env: {
    PIXELMILL_RATE_WINDOW_MS: String(WINDOW_MS),
    WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
  },
});
const bullmq = await startBullmq(REDIS_URL, sim.url, keysOf('bullmq'));

let results: Result[];
let arrivals: Awaited<ReturnType<typeof sim.arrivals>> = {};
try {
  const sampler = startSampler(sim.stats);
  const trace = process.env.BENCH_TRACE ? traceLimits(stack.prefix, sim.stats) : undefined;
  const pixelmillPids = [stack.api, ...stack.workers].map((s) => s.child.pid);
  const cpuBefore = {
    pixelmill: totalCpu(pixelmillPids),
    bullmq: totalCpu(bullmq.pids),
    naive: cpuSeconds(process.pid),
  };
  const startAt = Date.now() + 1_000;
  const [pm, naive, bull] = await Promise.all([
    runPixelmill(stack, startAt),
    runNaive(sim.url, keysOf('naive'), startAt),
    bullmq.run(startAt),
  ]);
  const cpuAfter = { pixelmill: totalCpu(pixelmillPids), bullmq: totalCpu(bullmq.pids) };
  await sampler.stop();
  trace?.stop();
  // Each batch's finalize step: finalize_ms since its last item ended, files_ms of that writing the files.
  for (const w of stack.workers)
    for (const line of w.output().split('\n')) if (line.includes('"batch completed"')) console.log(line);
  const runs = { pixelmill: pm, naive, bullmq: bull };
  const stats = await sim.stats();
  arrivals = await sim.arrivals();
  // BENCH_DUMP=<file>: the simulator's arrivals per key (pixelmill.ts writes the items beside them).
  if (process.env.BENCH_DUMP)
    writeFileSync(`${process.env.BENCH_DUMP}.arrivals.json`, JSON.stringify(arrivals));
  const used = (c: 'pixelmill' | 'bullmq') => {
    const [a, b] = [cpuBefore[c], cpuAfter[c]];
    return a === null || b === null ? null : b - a;
  };
  // The naive contender shares the runner process (with the samplers): its CPU is not separable.
  const cpu = { pixelmill: used('pixelmill'), bullmq: used('bullmq'), naive: null };
  results = contenders.map((c) => summarise(c, runs[c], sampler.samples.get(c) ?? [], stats, cpu[c]));
} finally {
  await bullmq.stop();
  await stack.stop();
  await sim.stop();
}

// The services keep their output after they stopped.
const logs = logReport([stack.api, ...stack.workers]);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const s = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(1)} s`);
const row = (label: string, f: (r: Result) => string) => `| ${label} | ${results.map(f).join(' | ')} |`;
const ideal = results[0]!.idealS;
const roundsOf = (x: number | null) =>
  x === null ? '' : ` (${(x / (WINDOW_MS / 1000)).toFixed(1)} windows)`;

const phases = (r: Result) =>
  r.phasesS === null
    ? ''
    : `\npixelmill's own timestamps, from the start: first item started ${r.phasesS.firstStart.toFixed(1)} s, last item ended ${r.phasesS.lastEnd.toFixed(1)} s, batch completed (manifest and results.csv written) ${r.phasesS.completed.toFixed(1)} s; the poller (every 200 ms) saw it at ${r.phasesS.polled.toFixed(1)} s. The makespan ends at the batch's completion. The last items to end (s, attempts): ${(r.tailS ?? []).map((t) => `${t.ended.toFixed(2)} (${t.attempts})`).join(', ')}.`;

console.log(`
### Rate limits (issue 5)

Command: \`pnpm bench:ratelimit\` (${new Date().toISOString().slice(0, 10)}, ${((Date.now() - began) / 1000).toFixed(0)} s)

Simulator (OpenAI Images format, its own process) with an exact sliding window compressed to ${WINDOW_MS / 1000} s: ${PER_KEY} requests
per window per key (= ${(PER_KEY * 60_000) / WINDOW_MS} rpm), 2 keys per contender, total limit ${TOTAL_PER_S} requests/s;
latency ${LATENCY_MS.min / 1000}–${LATENCY_MS.max / 1000} s, ${HTTP_5XX * 100} % answered 5xx. Workload: ${BIG_ITEMS} items of tenant A, then after
${SMALL_AT_MS / 1000} s ${SMALL_ITEMS} items of tenant B. All three contenders run at the same time, each on its own two keys.
pixelmill: API + 2 worker processes (WORKER_CONCURRENCY ${WORKER_CONCURRENCY}), declared limit = the simulator's;
naive: openai SDK defaults (maxRetries 2) + p-limit(${NAIVE_CONCURRENCY}); BullMQ: 2 worker processes, concurrency
${BULLMQ_CONCURRENCY}, \`limiter: {max: ${PER_KEY * 2}, duration: ${WINDOW_MS}}\`, attempts 5 with exponential backoff.

| measure | ${results.map((r) => r.contender).join(' | ')} |
|---|${results.map(() => '---').join('|')}|
${row('utilisation (successes/s ÷ limit, steady part)', (r) => pct(r.utilisation))}
${row('requests answered 429', (r) => pct(r.share429))}
${row(`max requests in any window, per key (limit ${PER_KEY})`, (r) => r.maxWindowUse.join(' / '))}
${row(`makespan (ideal ${ideal.toFixed(1)} s)`, (r) => `${r.makespanS.toFixed(1)} s (${((r.makespanS / ideal - 1) * 100).toFixed(1)} %)`)}
${row('makespan from the big batch accepted', (r) => `${r.makespanAfterAcceptS.toFixed(1)} s (${((r.makespanAfterAcceptS / ideal - 1) * 100).toFixed(1)} %)`)}
${row('start → last successful provider answer (sampled every 250 ms)', (r) => `${r.lastSuccessS.toFixed(1)} s (${((r.lastSuccessS / ideal - 1) * 100).toFixed(1)} %)`)}
${row('items succeeded / failed', (r) => `${r.succeeded} / ${r.failed}`)}
${row('small batch: submission → last item done', (r) => `${s(r.smallWaitS)}${roundsOf(r.smallWaitS)}`)}
${row('small batch: submission → first item started', (r) => s(r.smallFirstStartS))}
${row('requests sent', (r) => String(r.requests))}
${row('CPU seconds used by the contender processes', (r) => (r.cpuS === null ? 'n/a (runner process)' : r.cpuS.toFixed(1)))}
${phases(results[0]!)}

pixelmill's keys, each run of ${PER_KEY} admitted requests (the sliding window repeats the first run's pace in
every later one), from the key's first request:

| key | run | first at | last at | 429s in the run |
|---|---|---|---|---|
${keyRuns(arrivals, keysOf('pixelmill'), PER_KEY).join('\n')}

Log lines of pixelmill's processes during the run:

${logTable(logs)}
`);
console.log(JSON.stringify({ results, logs: logs.total }));
