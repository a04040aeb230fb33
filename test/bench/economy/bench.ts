/**
 * `pnpm bench:economy [--items N] [--size WxH] [--completion-ms MS] [--window MS]`: the same catalog
 * through the realtime lane, the economy lane and mode auto with a deadline, on one stack (API, one
 * worker, s3rver, the simulator's realtime and batch APIs in accelerated time). Prints cost and
 * makespan of each, the ratios to realtime, whether auto met its deadline, and the worker's peak RSS
 * growth while it unpacked the economy results.
 *
 * Accelerated time: the realtime limiter's "minute" is `--window` ms (default 6000) and a provider
 * batch job takes `--completion-ms` (default 30000) instead of up to 24 h.
 */
import { parseArgs } from 'node:util';
import { watchPeakGrowth } from '../../support/memory.js';
import { allItems, call, type Stack, startStack } from '../../support/stack.js';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '1000' },
    size: { type: 'string', default: '512x512' },
    'completion-ms': { type: 'string', default: '30000' },
    window: { type: 'string', default: '6000' },
  },
});
const ITEMS = Number(values.items);
const SIZE = values.size;
const COMPLETION_MS = Number(values['completion-ms']);
const WINDOW_MS = Number(values.window);
const MODEL = 'gemini-3.1-flash-image';
const RPM = 120;

const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [bench-economy-key]
    models:
      - id: ${MODEL}
        rpm: ${RPM}
        concurrency: 8
        timeout_s: 60
`;

interface Run {
  mode: string;
  makespanMs: number;
  costUsd: number;
  succeeded: number;
  deadlineMet?: boolean;
  rssGrowthMb?: number;
  lanes: Record<string, number>;
}

async function runMode(
  stack: Stack,
  mode: 'realtime' | 'economy' | 'auto',
  deadlineMs?: number,
): Promise<Run> {
  const memory = watchPeakGrowth(stack.workers[0]?.child.pid ?? 0);
  const expiresAt = deadlineMs === undefined ? undefined : new Date(Date.now() + deadlineMs).toISOString();
  const r = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
    model: MODEL,
    mode,
    defaults: { size: '1K' },
    ...(expiresAt ? { expires_at: expiresAt } : {}),
    items: Array.from({ length: ITEMS }, (_, i) => ({
      custom_id: `item-${i}`,
      prompt: `Studio product shot of catalog item ${i} on white seamless [sim:${SIZE}]`,
    })),
  });
  if (r.status !== 201) throw new Error(`${mode}: ${r.status} ${JSON.stringify(r.json)}`);
  const id = r.json.id as string;
  // biome-ignore lint/suspicious/noExplicitAny: API JSON
  let batch: any;
  for (;;) {
    memory.sample();
    batch = (await call(stack, stack.apiKey, 'GET', `/v1/batches/${id}`)).json;
    if (batch.status === 'completed') break;
    await new Promise((res) => setTimeout(res, 250));
  }
  const rssGrowthMb = memory.growthMb();
  const lanes: Record<string, number> = {};
  for (const item of await allItems(stack, stack.apiKey, id)) lanes[item.lane] = (lanes[item.lane] ?? 0) + 1;
  return {
    mode,
    makespanMs: Date.parse(batch.completed_at) - Date.parse(batch.created_at),
    costUsd: batch.cost.actual_usd,
    succeeded: batch.counts.succeeded,
    ...(expiresAt ? { deadlineMet: Date.parse(batch.completed_at) <= Date.parse(expiresAt) } : {}),
    rssGrowthMb,
    lanes,
  };
}

const stack = await startStack({
  workers: 1,
  config,
  sim: { latencyMs: { min: 200, max: 800 }, windowMs: WINDOW_MS, batch: { completionMs: COMPLETION_MS } },
  env: {
    PIXELMILL_RATE_WINDOW_MS: String(WINDOW_MS),
    PIXELMILL_ECONOMY_JOB_SIZE: '100',
    PIXELMILL_MAX_ITEMS_PER_BATCH: String(Math.max(ITEMS, 1000)),
    WORKER_ECONOMY_POLL_MIN_MS: '500',
    WORKER_ECONOMY_POLL_MAX_MS: '2000',
    WORKER_AUTO_MARGIN_MS: '5000',
    // The simulator answers in 0.2-0.8 s; with the upload a call takes about this long here.
    WORKER_AUTO_CALL_MS: '800',
  },
});
try {
  const realtime = await runMode(stack, 'realtime');
  process.stdout.write(`realtime: ${JSON.stringify(realtime)}\n`);
  const economy = await runMode(stack, 'economy');
  process.stdout.write(`economy: ${JSON.stringify(economy)}\n`);
  // A deadline with room: the economy lane's completion time plus twice the realtime makespan (the
  // switch-over estimate is deliberately pessimistic) and a margin. Auto should stay in economy.
  const deadlineMs = COMPLETION_MS + 2 * realtime.makespanMs + 30_000;
  const auto = await runMode(stack, 'auto', deadlineMs);
  process.stdout.write(`auto: ${JSON.stringify(auto)}\n`);
  // A provider slower than the deadline allows: auto must move the work to realtime to meet it.
  const slowMs = 4 * realtime.makespanMs + 60_000;
  const simConfig = (batch: Record<string, number>) =>
    fetch(`${stack.sim.url}/__config`, { method: 'POST', body: JSON.stringify({ batch }) });
  await simConfig({ completionMs: slowMs });
  const tight = await runMode(stack, 'auto', Math.round(realtime.makespanMs * 1.5) + 10_000).finally(() =>
    simConfig({ completionMs: COMPLETION_MS }),
  );
  process.stdout.write(`auto (provider slower than the deadline): ${JSON.stringify(tight)}\n`);

  const pct = (run: Run) => ((100 * run.costUsd) / realtime.costUsd).toFixed(1);
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const lanes = (run: Run) =>
    Object.entries(run.lanes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const rows = [
    `| mode | makespan | cost | cost vs realtime | deadline | lanes | worker peak RSS growth |`,
    `|---|---|---|---|---|---|---|`,
    ...[realtime, economy, auto, tight].map(
      (run, i) =>
        `| ${i === 3 ? 'auto, provider slower than the deadline' : run.mode} | ${s(run.makespanMs)} s | $${run.costUsd.toFixed(3)} | ${pct(run)} % | ${
          run.deadlineMet === undefined ? '–' : run.deadlineMet ? 'met' : '**missed**'
        } | ${lanes(run)} | ${run.rssGrowthMb?.toFixed(0)} MB |`,
    ),
  ];
  process.stdout.write(
    `\npnpm bench:economy --items ${ITEMS} --size ${SIZE} --completion-ms ${COMPLETION_MS} --window ${WINDOW_MS} (${new Date().toISOString()})\n\n${rows.join('\n')}\n\nTargets: economy and auto cost ≤ 52 % of realtime; auto meets its deadline in every run; worker RSS growth < 150 MB while unpacking.\n`,
  );
} finally {
  await stack.stop();
}
