/**
 * Ingest benchmark (issue 7): how long the API takes to accept 10,000 and 100,000 items streamed as
 * NDJSON and as CSV (time to the 201), and how much the API process's resident memory grows while it
 * does, against a baseline in the same run: a plain loop of `queue.add`, one job per item, on the same
 * Redis. Also times one `GET /items?status=` page that has to scan a whole 100,000-item batch.
 *
 * Run: `pnpm bench:ingest` (uses REDIS_URL, or starts a private redis-server). Writes its section of
 * BENCHMARKS.md. The API runs as a child process; no workers run, so accepted items stay queued.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { localS3Credentials, startLocalS3 } from '@pixelmill/storage';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { memoryMb, resetPeak } from '../../support/memory.js';
import { repoRoot, startService, stopService, waitForApiReady } from '../../support/processes.js';
import { deletePrefix } from '../../support/redis-cleanup.js';
import { freePort } from '../../support/stack.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SIZES = [10_000, 100_000];
const MODEL = 'gemini-3-pro-image';

interface Run {
  what: string;
  items: number;
  ms: number;
  /** Growth of the API's peak resident set during the request, MB. */
  peakGrowthMb: number | null;
}

const prompt = (i: number) => `Studio product shot of catalog item ${i} on white seamless, soft light, 85mm`;

/** The request body, generated as it is sent (the benchmark's own memory stays flat too). */
function body(kind: 'ndjson' | 'csv', n: number): ReadableStream {
  async function* lines(): AsyncGenerator<string> {
    if (kind === 'ndjson') yield `${JSON.stringify({ model: MODEL, defaults: { size: '1K' } })}\n`;
    else yield 'custom_id,prompt,aspect_ratio\n';
    const chunk = 1000;
    for (let start = 0; start < n; start += chunk) {
      let out = '';
      for (let i = start; i < Math.min(n, start + chunk); i++) {
        out +=
          kind === 'ndjson'
            ? `${JSON.stringify({ custom_id: `sku-${i}`, prompt: prompt(i), aspect_ratio: '1:1' })}\n`
            : `sku-${i},"${prompt(i)}",1:1\n`;
      }
      yield out;
    }
  }
  return Readable.toWeb(Readable.from(lines())) as ReadableStream;
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const prefix = `bench-ingest-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'pixelmill-bench-ingest-'));
  const s3 = await startLocalS3({ directory: join(dir, 's3'), port: 0, bucket: 'bench' });
  const port = await freePort();
  const apiKey = `sk_bench_${randomUUID()}`;
  const api = startService('api', 'services/api/src/main.ts', {
    REDIS_URL,
    PIXELMILL_QUEUE_PREFIX: prefix,
    PIXELMILL_API_KEYS: `bench:${apiKey}`,
    GEMINI_API_KEY: 'bench-key-never-used',
    PIXELMILL_MAX_ITEMS_PER_BATCH: '200000',
    PIXELMILL_MAX_BODY_BYTES: String(256 * 1024 * 1024),
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: 'bench',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: localS3Credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localS3Credentials.secretAccessKey,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  const apiUrl = `http://127.0.0.1:${port}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const runs: Run[] = [];
  let scanMs = 0;
  try {
    await waitForApiReady(api, apiUrl, 60_000);
    const pid = api.child.pid as number;
    const canReset = resetPeak(pid);
    // Warm-up: first requests load code paths and open the queue.
    await post('ndjson', 500);

    async function post(kind: 'ndjson' | 'csv', n: number): Promise<{ ms: number; id: string }> {
      const started = performance.now();
      const res = await fetch(`${apiUrl}/v1/batches${kind === 'csv' ? `?model=${MODEL}&size=1K` : ''}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': kind === 'csv' ? 'text/csv' : 'application/x-ndjson',
        },
        body: body(kind, n),
        duplex: 'half',
      } as RequestInit);
      const json = (await res.json()) as { id: string };
      const ms = performance.now() - started;
      if (res.status !== 201) throw new Error(`${kind} ${n}: HTTP ${res.status} ${JSON.stringify(json)}`);
      return { ms, id: json.id };
    }

    // Baseline: a plain loop of queue.add, one awaited call per job, same Redis. Run between the two
    // ingests of the same size, so that both see the same load on a shared machine.
    const queue = new Queue('baseline', { connection: redis, prefix });
    async function baseline(n: number): Promise<void> {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await queue.add(
          'generate',
          { batch_id: 'b', item_id: `i-${n}-${i}`, tenant_id: 't' },
          { jobId: `i-${n}-${i}` },
        );
      }
      const ms = performance.now() - t0;
      runs.push({ what: 'baseline: loop of queue.add', items: n, ms, peakGrowthMb: null });
      process.stdout.write(`queue.add loop ${n}: ${ms.toFixed(0)} ms\n`);
    }

    let last100k = '';
    for (const n of SIZES) {
      for (const kind of ['ndjson', 'baseline', 'csv'] as const) {
        if (kind === 'baseline') {
          await baseline(n);
          continue;
        }
        const before = memoryMb(pid);
        if (canReset) resetPeak(pid);
        const { ms, id } = await post(kind, n);
        const after = memoryMb(pid);
        const peakGrowthMb = canReset ? after.hwm - before.rss : null;
        runs.push({ what: kind === 'ndjson' ? 'NDJSON' : 'CSV', items: n, ms, peakGrowthMb });
        process.stdout.write(
          `${kind} ${n}: ${ms.toFixed(0)} ms, peak RSS growth ${peakGrowthMb?.toFixed(1) ?? '?'} MB\n`,
        );
        if (n === 100_000) last100k = id;
      }
    }
    await queue.close();

    // GET /items?status= over a whole 100,000-item batch with no match: the worst case of the scan.
    const started = performance.now();
    const page = await fetch(`${apiUrl}/v1/batches/${last100k}/items?status=failed&limit=100`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    scanMs = performance.now() - started;
    if (!page.ok) throw new Error(`items: HTTP ${page.status}`);
  } finally {
    await stopService(api);
    await redis.quit();
    await deletePrefix(REDIS_URL, prefix);
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
  writeResults(runs, scanMs, { before: loadBefore, after: loadavg() });
}

function writeResults(runs: Run[], scanMs: number, load: { before: number[]; after: number[] }): void {
  const baseline = (n: number) =>
    runs.find((r) => r.what.startsWith('baseline') && r.items === n)?.ms ?? Number.NaN;
  const rows = runs.map(
    (r) =>
      `| ${r.what} | ${r.items.toLocaleString('en-US')} | ${(r.ms / 1000).toFixed(2)} s | ${Math.round((r.items / r.ms) * 1000).toLocaleString('en-US')} | ${r.what.startsWith('baseline') ? '1.00' : (baseline(r.items) / r.ms).toFixed(2)} | ${r.peakGrowthMb === null ? '–' : `${r.peakGrowthMb.toFixed(1)} MB`} |`,
  );
  const section = `## Ingest (issue 7)

Command: \`pnpm bench:ingest\` · date: ${new Date().toISOString().slice(0, 10)} · test/bench/ingest/bench.ts ·
load average (1 min) ${load.before[0]?.toFixed(1)} before, ${load.after[0]?.toFixed(1)} after, on 2 cores (other work
shares the machine: compare the ratios, not the absolute times)

The API runs as a child process (no workers) on a fresh Redis prefix; each request streams its body as it
is generated. Time is from the request's start to the 201 (every item validated, written and enqueued,
the batch published). Peak RSS growth is the API's VmHWM after the request minus its VmRSS before (the
peak is reset before each request). The baseline is a plain loop of awaited \`queue.add\` calls from
the benchmark process, one job per item, without any validation or item records.

| what | items | time | items/s | speed vs baseline | API peak RSS growth |
|---|---|---|---|---|---|
${rows.join('\n')}

\`GET /v1/batches/{id}/items?status=failed&limit=100\` on the 100,000-item batch (no item matches, so the
whole batch is scanned, in Redis, 5,000 statuses per call): ${scanMs.toFixed(0)} ms.

Targets (issue 7, this 2-core machine): 10,000 accepted in < 1 s, 100,000 in < 10 s, peak RSS growth
< 150 MB for 100,000.
`;
  const file = join(repoRoot, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('## Ingest (issue 7)');
  let next: number;
  if (start >= 0) {
    const after = text.indexOf('\n## ', start + 1);
    next = after >= 0 ? after + 1 : text.length;
  } else next = -1;
  const updated =
    start >= 0
      ? `${text.slice(0, start)}${section}${next < text.length ? `\n${text.slice(next)}` : ''}`
      : `${text.trimEnd()}\n\n${section}`;
  writeFileSync(file, updated);
  process.stdout.write(`\n${section}`);
}

await main();
