/**
 * Webhook benchmark (issue 6): `pnpm bench:webhooks`.
 * 1. Deliveries per second through pixelmill's deliver path vs a plain fetch loop, same concurrency.
 * 2. Generation makespan with healthy vs hanging webhook receivers (ratio ≈ 1 means isolation).
 * Prints a Markdown section for BENCHMARKS.md.
 */
import { measureClientCost } from './client-cost.js';
import { measureIsolation } from './isolation.js';
import { measureThroughput } from './throughput.js';

const deliveries = Number(process.env.BENCH_DELIVERIES ?? 2000);
// Uncounted requests on each side first (BENCH_WARMUP=2000: warm processes); 0: both sides cold.
const warmup = Number(process.env.BENCH_WARMUP ?? 0);
const items = Number(process.env.BENCH_ITEMS ?? 160);
const roundCount = Number(process.env.BENCH_ROUNDS ?? 4);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const f = (n: number, d = 1) => n.toFixed(d);

const t = await measureThroughput({ deliveries, warmup });
console.log(
  `throughput: pixelmill ${f(t.pixelmillPerS)} deliveries/s, fetch loop ${f(t.fetchPerS)}/s, ratio ${f(t.pixelmillPerS / t.fetchPerS, 2)}`,
);
if (t.warmup > 0) console.log(`after ${t.warmup} uncounted requests on each side`);
console.log(
  `connections opened to the receiver: fetch loop ${t.connections.fetchLoop}, pixelmill ${t.connections.pixelmill}`,
);
console.log(`all queued after ${f(t.queuedAfterS, 2)} s, all delivered after ${f(t.pixelmillS, 2)} s`);
const cpu = t.cpuUsPerDelivery;
console.log(
  `CPU per delivery: fetch loop and receiver ${f(cpu.fetchLoop, 0)} µs; pixelmill: worker ${cpu.worker === null ? 'n/a' : f(cpu.worker, 0)} µs, queueing and receiving ${f(cpu.queueAndReceive, 0)} µs, Redis server ${f(cpu.redis, 0)} µs`,
);
const client = await measureClientCost({ body: t.body });
const list = (xs: number[]) => xs.map((x) => f(x, 0)).join(', ');
console.log(
  `HTTP client CPU per POST (this process, receiver in a child; ${client.requestsPerRound} per round): pixelmill delivery attempt ${f(median(client.pixelmillUs), 0)} µs (${list(client.pixelmillUs)}), plain fetch ${f(median(client.fetchUs), 0)} µs (${list(client.fetchUs)}), ratio ${f(median(client.pixelmillUs) / median(client.fetchUs), 2)}`,
);
// BENCH_ROUNDS=0 measures throughput only (profiling runs).
if (roundCount === 0) process.exit(0);
const rounds = await measureIsolation({ items, rounds: roundCount });
const ratios: number[] = [];
for (const [r, pair] of rounds.entries()) {
  const healthy = pair.find((x) => x.receivers === 'healthy');
  const hanging = pair.find((x) => x.receivers === 'hanging');
  if (healthy === undefined || hanging === undefined) continue;
  ratios.push(hanging.makespanS / healthy.makespanS);
  console.log(
    `isolation round ${r + 1}: healthy ${f(healthy.makespanS, 2)} s, hanging ${f(hanging.makespanS, 2)} s (${hanging.pendingDeliveries} deliveries still pending), ratio ${f(hanging.makespanS / healthy.makespanS, 2)}`,
  );
}
const healthyMed = median(
  rounds
    .flat()
    .filter((x) => x.receivers === 'healthy')
    .map((x) => x.makespanS),
);
const hangingMed = median(
  rounds
    .flat()
    .filter((x) => x.receivers === 'hanging')
    .map((x) => x.makespanS),
);

console.log(`
### Webhooks (issue 6)

Command: \`pnpm bench:webhooks\` (${new Date().toISOString().slice(0, 10)})

| measure | pixelmill | baseline | ratio |
|---|---|---|---|
| deliveries/s to a local receiver (${t.deliveries} deliveries, concurrency ${t.concurrency}) | ${f(t.pixelmillPerS)} | ${f(t.fetchPerS)} (plain \`fetch\` loop) | ${f(t.pixelmillPerS / t.fetchPerS, 2)} |
| generation makespan, ${items} items, receivers hanging vs healthy: two identical stacks side by side, roles swapped each round, ${roundCount} rounds (medians; ratio = median of per-round ratios) | ${f(hangingMed, 2)} s | ${f(healthyMed, 2)} s | ${f(median(ratios), 2)} (per round: ${ratios.map((x) => f(x, 2)).join(', ')}) |
`);
