/**
 * Misdeclared-limit mode (issue 14): `pnpm bench:ratelimit --misdeclared`.
 * pixelmill declares 60 requests per window per key; the simulator allows 40. AIMD has to find
 * the real limit: few 429s, and most of the real limit used once the first two windows are over.
 */
import { createLimiter, resourceIdFor } from '@pixelmill/ratelimit';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../../support/stack.js';
import { logTable } from './logs.js';
import { realTimeConfig, windowProfile } from './realtime.js';
import {
  at,
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

const KEYS = ['md-key-1', 'md-key-2'];
const DECLARED = 60;
const REAL = 40;
const CONCURRENCY = 4;

export async function runMisdeclared(opts: { windowMs?: number; items?: number }): Promise<void> {
  const windowMs = opts.windowMs ?? 60_000;
  const items = opts.items ?? 400;
  const began = Date.now();
  const run = await withStack(
    {
      SIM_SEED: '40',
      SIM_WINDOW_MS: String(windowMs),
      SIM_LATENCY_MS: `${LATENCY_MS.min}-${LATENCY_MS.max}`,
      SIM_LIMITS: JSON.stringify(Object.fromEntries(KEYS.map((k) => [k, { rpm: REAL }]))),
    },
    realTimeConfig(KEYS, { rpm: DECLARED, concurrency: CONCURRENCY }),
    { PIXELMILL_RATE_WINDOW_MS: String(windowMs), WORKER_CONCURRENCY: '32' },
    async (stack, sim) => {
      // pixelmill's effective rate per key (AIMD), once a second.
      const redis = new Redis(REDIS_URL);
      const limiter = createLimiter(redis, { prefix: `${stack.prefix}:rl` });
      const ids = KEYS.map((k) => resourceIdFor('openai', MODEL, k));
      const effective: { t: number; rpm: (number | null)[] }[] = [];
      const timer = setInterval(() => {
        Promise.all(ids.map((id) => limiter.state(id).then((s) => s.effectiveRpm)))
          .then((rpm) => effective.push({ t: Date.now(), rpm }))
          .catch(() => undefined);
      }, 1000);
      const sampler = sampleKeys(sim, KEYS);
      const submittedAt = Date.now();
      try {
        const id = await submit(stack, stack.apiKey, MODEL, 'md', items);
        const done = await waitDone(stack, stack.apiKey, id, 30 * windowMs + 600_000);
        const stats = await sampler.stop();
        return { sampler, submittedAt, done, stats, effective };
      } finally {
        clearInterval(timer);
        redis.disconnect();
      }
    },
  );
  const { sampler, submittedAt, done, effective } = run.result;
  const all = total(sampler, KEYS);
  const t0 = all.find((s) => s.requests > 0)?.t ?? submittedAt;
  const final = all.at(-1)!;
  const lastRequest = reachedFinal(all, 'requests');
  const from = t0 + 2 * windowMs;
  const a = at(all, from);
  const accepted = (s: { requests: number; limited: number }) => s.requests - s.limited;
  const useAfter =
    lastRequest > from
      ? ((accepted(final) - accepted(a)) * windowMs) / (lastRequest - from) / (REAL * KEYS.length)
      : Number.NaN;
  const share429 = final.requests > 0 ? final.limited / final.requests : 0;
  const requestsAfter = final.requests - a.requests;
  const share429After = requestsAfter > 0 ? (final.limited - a.limited) / requestsAfter : 0;
  const effAt = (t: number) =>
    (effective.filter((e) => e.t <= t).at(-1)?.rpm ?? []).map((r) => r ?? '-').join(' / ');
  const windows = Math.ceil((lastRequest - t0) / windowMs);
  const logs = run.logs.total;

  console.log(`
### Misdeclared limit (issue 14)

Command: \`pnpm bench:ratelimit --misdeclared${opts.windowMs ? ` --window ${windowMs}` : ''}${opts.items ? ` --items ${items}` : ''}\` (${new Date().toISOString().slice(0, 10)}, ${((Date.now() - began) / 1000).toFixed(0)} s)

pixelmill alone: API + 2 worker processes, ${KEYS.length} keys declared at ${DECLARED} requests per ${windowMs / 1000} s window (\`concurrency: ${CONCURRENCY}\`);
the simulator allows ${REAL} per key (sliding window), latency ${LATENCY_MS.min / 1000}–${LATENCY_MS.max / 1000} s, no faults; ${items} items in one batch.

| measure | result | target | |
|---|---|---|---|
| requests answered 429, whole run | ${pct(share429)} (${final.limited} of ${final.requests}) | ≤ 3 % | ${met(share429 <= 0.03)} |
| requests answered 429 after the first two windows | ${pct(share429After)} (${final.limited - a.limited} of ${requestsAfter}) | | |
| use of the real limit after the first two windows (accepted requests/s ÷ ${REAL * KEYS.length} per window) | ${pct(useAfter)} | ≥ 90 % | ${met(useAfter >= 0.9)} |
| items succeeded / failed | ${done.succeeded} / ${done.failed} | 0 failed | ${met(done.failed === 0)} |
| submission → batch completed | ${((done.at - submittedAt) / 1000).toFixed(1)} s | | |
| error / "Missing lock" / "stalled" log lines | ${logs.error} / ${logs.missingLock} / ${logs.stalled} | 0 / 0 / 0 | ${met(logs.error + logs.missingLock + logs.stalled === 0)} |

Per window from the first request, and pixelmill's effective rpm per key at the window's end:

| window | requests | 200 | 429 | last request of the window at | effective rpm |
|---|---|---|---|---|---|
${windowProfile(all, t0, windowMs)
  .slice(0, windows + 1)
  .map((row, k) => `${row} ${effAt(t0 + (k + 1) * windowMs)} |`)
  .join('\n')}

${logTable(run.logs)}
`);
  console.log(
    JSON.stringify({
      mode: 'misdeclared',
      share429,
      share429After,
      useAfter,
      done,
      logs: run.logs.byProcess,
    }),
  );
}
