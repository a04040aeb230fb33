/**
 * Catalog-scale benchmark (issue 16): one large NDJSON batch (default 1,000,000 items; `--items N`)
 * against the API alone on a private Redis, then the operations users run on such a batch.
 *
 * Reports: time to the 201; the API's peak resident-memory growth while it accepts; Redis
 * `used_memory` added per accepted item; the refusal of the same upload with one bad last line; the
 * first item page, a filtered page that scans the whole batch, cancel and retry of every item; and,
 * with the provider simulator and one worker running, the time from a batch's 201 to the first
 * provider call.
 *
 * Run: `pnpm bench:scale [--items N]`. The Redis is a redis-server child started here (other work
 * shares the machine's 6379, and `used_memory` must see this run alone). Writes its section of
 * BENCHMARKS.md.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Queues } from '@pixelmill/core';
import { startSim } from '@pixelmill/provider-sim';
import { localS3Credentials, startLocalS3 } from '@pixelmill/storage';
import { Redis } from 'ioredis';
import { memoryMb, resetPeak } from '../../support/memory.js';
import {
  repoRoot,
  type Service,
  startService,
  stopService,
  waitFor,
  waitForApiReady,
  waitForWorkerStarted,
} from '../../support/processes.js';
import { freePort } from '../../support/stack.js';

const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    // Acceptance figures only (time, RSS, Redis bytes), nothing written to BENCHMARKS.md.
    'accept-only': { type: 'boolean', default: false },
  },
});
const ITEMS = Number(args.items);
if (!Number.isSafeInteger(ITEMS) || ITEMS < 1000) throw new Error('--items: a whole number ≥ 1000');
// The API and worker run with the heap bound the Docker image sets (NODE_OPTIONS there), unless
// PIXELMILL_SERVICE_NODE_ARGS says otherwise (e.g. '' to measure node's default).
process.env.PIXELMILL_SERVICE_NODE_ARGS ??= '--max-old-space-size=1024';
/** Items of the batch whose first provider call is timed (a worker runs then). */
const FIRST_CALL_ITEMS = 100;
const MODEL = 'gemini-3-pro-image';

const config = (simUrl: string) => `
providers:
  - name: gemini
    kind: gemini
    base_url: "${simUrl}"
    api_keys: [sim-key-1]
    models:
      - id: ${MODEL}
        rpm: 6000
        concurrency: 8
        timeout_s: 30
`;

/** A private redis-server on a free port, no persistence; stopped by `stop()`. */
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {}); // refused until the server listens: polled below
  await waitFor(
    'redis-server',
    async () => {
      if (child.exitCode !== null) throw new Error('redis-server exited');
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG' ? true : undefined;
      } catch {
        probe.disconnect();
        return undefined;
      }
    },
    { timeoutMs: 10_000 },
  );
  probe.disconnect();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const prompt = (i: number) => `Studio product shot of catalog item ${i} on white seamless, soft light, 85mm`;

/** The NDJSON body, generated as it is sent (the benchmark's own memory stays flat). */
function ndjson(n: number, opts: { badLast?: boolean; tag?: string } = {}): ReadableStream {
  async function* lines(): AsyncGenerator<string> {
    yield `${JSON.stringify({ model: MODEL, defaults: { size: '1K' } })}\n`;
    for (let start = 0; start < n; start += 1000) {
      let out = '';
      for (let i = start; i < Math.min(n, start + 1000); i++) {
        const last = i === n - 1;
        out +=
          opts.badLast && last
            ? `${JSON.stringify({ custom_id: `sku-${i}`, prompt: '', aspect_ratio: '1:1' })}\n`
            : `${JSON.stringify({ custom_id: `${opts.tag ?? 'sku'}-${i}`, prompt: prompt(i), aspect_ratio: '1:1' })}\n`;
      }
      yield out;
    }
  }
  return Readable.toWeb(Readable.from(lines())) as ReadableStream;
}

/** Redis used_memory once what UNLINK handed to the background thread is freed. */
async function usedMemory(redis: Redis): Promise<number> {
  const info = await waitFor(
    'lazy frees to finish',
    async () => {
      const text = await redis.info('memory');
      return /lazyfree_pending_objects:0\b/.test(text) ? text : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 20 },
  );
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 'NaN');
}

interface Figures {
  items: number;
  acceptMs?: number;
  acceptError?: string;
  peakGrowthMb?: number | null;
  bytesPerItem?: number;
  refuseMs?: number;
  refuseStatus?: number;
  refuseLeftBytes?: number;
  firstPageMs?: number;
  scanPageMs?: number;
  cancelMs?: number;
  cancelSettledMs?: number;
  retryMs?: number;
  retried?: number;
  sweepMs?: number;
  firstCallMs?: number;
  baselineMs?: number;
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'pixelmill-bench-scale-'));
  const redisServer = await startRedis();
  const s3 = await startLocalS3({ directory: join(dir, 's3'), port: 0, bucket: 'bench' });
  const sim = await startSim({ seed: 16 });
  const configPath = join(dir, 'pixelmill.yaml');
  writeFileSync(configPath, config(sim.url));
  const port = await freePort();
  const apiKey = `sk_bench_${randomUUID()}`;
  const env: Record<string, string> = {
    REDIS_URL: redisServer.url,
    PIXELMILL_QUEUE_PREFIX: 'bench-scale',
    PIXELMILL_CONFIG: configPath,
    PIXELMILL_API_KEYS: `bench:${apiKey}`,
    PIXELMILL_MAX_ITEMS_PER_BATCH: String(Math.max(ITEMS, 200_000)),
    PIXELMILL_MAX_BODY_BYTES: String(Math.max(256, Math.ceil((ITEMS * 200) / 2 ** 20)) * 2 ** 20),
    // The figures are the point, not the default 300 s limit on one request (a loaded machine needs more).
    PIXELMILL_REQUEST_TIMEOUT_MS: String(30 * 60_000),
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: 'bench',
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: localS3Credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localS3Credentials.secretAccessKey,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '8',
  };
  const api = startService('api', 'services/api/src/main.ts', env);
  let worker: Service | undefined;
  const apiUrl = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${apiKey}` };
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const f: Figures = { items: ITEMS };

  /** POSTs a streamed body through node:http (fetch gives up after 300 s without response headers). */
  async function post(body: ReadableStream): Promise<{ ms: number; status: number; json: { id?: string } }> {
    const started = performance.now();
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${apiUrl}/v1/batches`,
        { method: 'POST', headers: { ...auth, 'content-type': 'application/x-ndjson' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      const source = Readable.fromWeb(body as never);
      source.on('error', reject);
      source.pipe(req);
    });
    return { ms: performance.now() - started, status, json: JSON.parse(text) as { id?: string } };
  }
  const timed = async (what: string, path: string, init: RequestInit = {}, show = true) => {
    const started = performance.now();
    const res = await fetch(`${apiUrl}${path}`, { ...init, headers: { ...auth, ...init.headers } });
    const body = await res.text();
    const ms = performance.now() - started;
    if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${body.slice(0, 300)}`);
    if (show) process.stdout.write(`${what}: ${ms.toFixed(0)} ms\n`);
    return { ms, res, json: JSON.parse(body) as { counts: Record<string, number>; status: string } };
  };

  async function startWorker(): Promise<Service> {
    // "worker started" is an info line.
    const started = startService('worker', 'services/worker/src/main.ts', { ...env, LOG_LEVEL: 'info' });
    try {
      await waitForWorkerStarted(started, 120_000);
    } catch (err) {
      // Not left running when it did not come up in time.
      await stopService(started, 'SIGKILL');
      throw err;
    }
    return started;
  }

  try {
    await waitForApiReady(api, apiUrl, 120_000);
    const pid = api.child.pid as number;
    // Warm-up: the first request loads code paths and opens the queue.
    const warm = await post(ndjson(500, { tag: 'warm' }));
    if (warm.status !== 201) throw new Error(`warm-up: HTTP ${warm.status}`);
    // Cancelled at once: its items are not work for the worker started below.
    await timed('warm-up cancel', `/v1/batches/${warm.json.id}/cancel`, { method: 'POST' }, false);

    // Baseline for this machine's speed right now: the same body read line by line and RPUSHed to a
    // Redis list 1,000 lines a call from this process (no validation, no records, no jobs).
    {
      const started = performance.now();
      const reader = Readable.fromWeb(ndjson(ITEMS, { tag: 'base' }) as never);
      let carry = '';
      for await (const chunk of reader) {
        const text = carry + String(chunk);
        const lines = text.split('\n');
        carry = lines.pop() ?? '';
        for (let i = 0; i < lines.length; i += 1000)
          await redis.rpush('bench-scale:baseline', ...lines.slice(i, i + 1000));
      }
      f.baselineMs = performance.now() - started;
      await redis.unlink('bench-scale:baseline');
      process.stdout.write(`baseline (RPUSH of the body): ${f.baselineMs.toFixed(0)} ms\n`);
    }

    // Acceptance.
    const memBefore = await usedMemory(redis);
    const before = memoryMb(pid);
    const canReset = resetPeak(pid);
    let sampledPeak = before.rss;
    const sampler = setInterval(() => {
      sampledPeak = Math.max(sampledPeak, memoryMb(pid).rss);
    }, 50);
    let batchId: string | undefined;
    try {
      const accepted = await post(ndjson(ITEMS));
      if (accepted.status !== 201)
        throw new Error(`HTTP ${accepted.status} ${JSON.stringify(accepted.json)}`);
      f.acceptMs = accepted.ms;
      batchId = accepted.json.id;
    } catch (err) {
      f.acceptError = (err as Error).message.slice(0, 300);
      process.stdout.write(`API output (tail):\n${api.output().slice(-2000)}\n`);
      process.stdout.write(`acceptance failed: ${f.acceptError}\n`);
    } finally {
      clearInterval(sampler);
    }
    const after = memoryMb(pid);
    f.peakGrowthMb = Math.max(sampledPeak, canReset ? after.hwm : 0) - before.rss;
    if (args['accept-only']) {
      process.stdout.write(
        `accepted ${ITEMS}: ${(f.acceptMs ?? 0).toFixed(0)} ms, API peak RSS growth ${f.peakGrowthMb.toFixed(1)} MB, ` +
          `Redis ${(((await usedMemory(redis)) - memBefore) / ITEMS).toFixed(0)} B/item\n`,
      );
      return;
    }
    if (batchId !== undefined) {
      f.bytesPerItem = ((await usedMemory(redis)) - memBefore) / ITEMS;
      process.stdout.write(
        `accepted ${ITEMS}: ${(f.acceptMs ?? 0).toFixed(0)} ms, API peak RSS growth ${f.peakGrowthMb.toFixed(1)} MB, ` +
          `Redis ${f.bytesPerItem.toFixed(0)} B/item\n`,
      );

      // Refusal: the same upload with its last item invalid (an empty prompt); time to the 400 and
      // what it left in Redis.
      const memBeforeRefusal = await usedMemory(redis);
      const refused = await post(ndjson(ITEMS, { badLast: true, tag: 'refused' }));
      f.refuseMs = refused.ms;
      f.refuseStatus = refused.status;
      f.refuseLeftBytes = (await usedMemory(redis)) - memBeforeRefusal;
      process.stdout.write(`refused ${ITEMS}: HTTP ${refused.status} in ${refused.ms.toFixed(0)} ms\n`);

      f.firstPageMs = (await timed('first item page', `/v1/batches/${batchId}/items?limit=100`)).ms;
      f.scanPageMs = (
        await timed('status=failed page', `/v1/batches/${batchId}/items?status=failed&limit=100`)
      ).ms;
      const cancel = await timed('cancel', `/v1/batches/${batchId}/cancel`, { method: 'POST' });
      f.cancelMs = cancel.ms;
      // Until every queued item counts as cancelled (at once today; a background sweep would take longer).
      const cancelStarted = performance.now() - cancel.ms;
      await waitFor(
        'the cancelled count',
        async () => {
          const b = await timed('batch', `/v1/batches/${batchId}`, {}, false);
          return b.json.counts.cancelled === ITEMS ? true : undefined;
        },
        { timeoutMs: 600_000, intervalMs: 200 },
      );
      f.cancelSettledMs = performance.now() - cancelStarted;
      // A retry waits for the cancelled batch's finalize, which a worker runs: one runs until then.
      const finalizer = await startWorker();
      await waitFor(
        'the cancelled batch to finalize',
        async () =>
          (await timed('batch', `/v1/batches/${batchId}`, {}, false)).json.status === 'cancelled'
            ? true
            : undefined,
        { timeoutMs: 600_000, intervalMs: 500 },
      );
      // Stopped once idle: a job it held at SIGTERM would wait for stalled-job recovery.
      const finalizeQueue = new Queues(redis, 'bench-scale').finalize;
      await waitFor(
        'the finalize queue to be idle',
        async () => {
          const c = await finalizeQueue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
          return Object.values(c).every((n) => n === 0) ? true : undefined;
        },
        { timeoutMs: 1_800_000, intervalMs: 200 },
      );
      await finalizeQueue.close();
      await stopService(finalizer);
      const retry = await timed('retry', `/v1/batches/${batchId}/retry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ statuses: ['cancelled'] }),
      });
      f.retryMs = retry.ms;
      f.retried = Number(retry.res.headers.get('x-retried-items'));
      // Leave nothing queued for the worker below.
      await timed('cancel again', `/v1/batches/${batchId}/cancel`, { method: 'POST' });
    }

    // A worker removes the cancelled batch's jobs in the background (sweep-cancelled) and drops any
    // it picks up first: timed until the model's queue is empty, from the worker's start.
    worker = await startWorker();
    if (batchId !== undefined) {
      const queue = new Queues(redis, 'bench-scale').generate(MODEL);
      const started = performance.now();
      await waitFor(
        'the cancelled jobs to leave the queue',
        async () => {
          // Not 'active': the few jobs the stopped finalizing worker held wait for stalled-job recovery.
          const c = await queue.getJobCounts('wait', 'prioritized', 'delayed');
          return Object.values(c).every((n) => n === 0) ? true : undefined;
        },
        { timeoutMs: 1_800_000, intervalMs: 500 },
      );
      f.sweepMs = performance.now() - started;
      process.stdout.write(`cancelled jobs gone from the queue after ${f.sweepMs.toFixed(0)} ms\n`);
      await queue.close();
    }

    // First provider call: the same worker and the simulator running, a small batch accepted.
    // The simulator stamps each request as it arrives (/__arrivals, ms since the epoch, this clock).
    const arrivals = async (): Promise<number[]> => {
      const byKey = (await (await fetch(`${sim.url}/__arrivals`)).json()) as Record<string, { t: number }[]>;
      return Object.values(byKey).flatMap((list) => list.map((a) => a.t));
    };
    const postedAt = Date.now();
    const small = await post(ndjson(FIRST_CALL_ITEMS, { tag: 'first' }));
    if (small.status !== 201) throw new Error(`first-call batch: HTTP ${small.status}`);
    const acceptedAt = Date.now();
    const first = await waitFor(
      'the first provider call',
      async () => {
        const after = (await arrivals()).filter((t) => t >= postedAt);
        return after.length > 0 ? Math.min(...after) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    // Negative when the call came before the 201 reached the benchmark.
    f.firstCallMs = first - acceptedAt;
    process.stdout.write(`first provider call ${f.firstCallMs.toFixed(0)} ms after the 201\n`);
  } finally {
    await Promise.all([api, ...(worker ? [worker] : [])].map((s) => stopService(s)));
    await redis.quit();
    await redisServer.stop();
    await sim.close();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (!args['accept-only']) writeResults(f, { before: loadBefore, after: loadavg() });
}

const s = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);

function writeResults(f: Figures, load: { before: number[]; after: number[] }): void {
  const n = f.items.toLocaleString('en-US');
  const rows = [
    `| accept ${n} items (to the 201) | ${f.acceptError ? `failed: ${f.acceptError}` : s(f.acceptMs)} | ${f.acceptMs && f.baselineMs ? (f.acceptMs / f.baselineMs).toFixed(2) : '–'} |`,
    `| baseline: the same body RPUSHed 1,000 lines a call | ${s(f.baselineMs)} | 1.00 |`,
    `| API peak RSS growth while accepting | ${f.peakGrowthMb?.toFixed(1) ?? '–'} MB | |`,
    `| Redis used_memory per accepted item | ${f.bytesPerItem?.toFixed(0) ?? '–'} B | |`,
    `| refuse the same upload (last line bad) | ${s(f.refuseMs)} (HTTP ${f.refuseStatus ?? '–'}, ${f.refuseLeftBytes === undefined ? '–' : `${(f.refuseLeftBytes / 1024).toFixed(0)} kB`} left in Redis) | ${f.refuseMs && f.baselineMs ? (f.refuseMs / f.baselineMs).toFixed(2) : '–'} |`,
    `| first item page (limit 100) | ${s(f.firstPageMs)} | |`,
    `| \`?status=failed\` page (scans every item) | ${s(f.scanPageMs)} | |`,
    `| cancel (to the 200) | ${s(f.cancelMs)} | |`,
    `| cancel until every item counts cancelled | ${s(f.cancelSettledMs)} | |`,
    `| retry of the cancelled items (to the 200) | ${s(f.retryMs)} (${f.retried?.toLocaleString('en-US') ?? '–'} retried) | |`,
    `| a worker empties the queue of the cancelled jobs (background) | ${s(f.sweepMs)} | |`,
    `| first provider call after a ${FIRST_CALL_ITEMS}-item batch's 201 | ${s(f.firstCallMs)} | |`,
  ];
  const section = `## Catalog scale (issue 16)

Command: \`pnpm bench:scale --items ${f.items}\` · date: ${new Date().toISOString().slice(0, 10)} · test/bench/scale/bench.ts ·
load average (1 min) ${load.before[0]?.toFixed(1)} before, ${load.after[0]?.toFixed(1)} after, on 2 cores (other work
shares the machine: compare the ratios, not the absolute times)

The API runs as a child process (node flags: \`${process.env.PIXELMILL_SERVICE_NODE_ARGS || 'none'}\`) on a
private redis-server started by the benchmark (nothing else in it); the body is NDJSON with
~90-character prompts, generated as it is sent. RSS growth is the API's
peak (VmRSS sampled every 50 ms, and VmHWM) minus its VmRSS before the upload. Redis memory is the
change of \`used_memory\` across the accepted upload, divided by its items. Ratios are against the
baseline in the same run. The first-call figure runs last, with one worker and the provider
simulator, on a ${FIRST_CALL_ITEMS}-item batch, once that worker has emptied the queue of the cancelled
jobs.

| what | figure | vs baseline |
|---|---|---|
${rows.join('\n')}

Targets (issue 16): 1M accepted in < 60 s, API RSS growth < 100 MB whatever the size, ≤ 300 B of Redis
per accepted item not yet started, first provider call < 1 s after the 201, cancel of 1M < 10 s.
`;
  const file = join(repoRoot, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('## Catalog scale (issue 16)');
  let updated: string;
  if (start >= 0) {
    const after = text.indexOf('\n## ', start + 1);
    updated = `${text.slice(0, start)}${section}${after >= 0 ? `\n${text.slice(after + 1)}` : ''}`;
  } else updated = `${text.trimEnd()}\n\n${section}`;
  writeFileSync(file, updated);
  process.stdout.write(`\n${section}`);
}

await main();
