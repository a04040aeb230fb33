import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type RunningSim, type SimOptions, startSim } from '@pixelmill/provider-sim';
import { type LocalS3, localS3Credentials, startLocalS3 } from '@pixelmill/storage';
import {
  type Service,
  startService,
  stopService,
  waitFor,
  waitForApiReady,
  waitForWorkerStarted,
} from '../../support/processes.js';
import { testS3Client } from '../../support/s3.js';
import { freePort } from '../../support/stack.js';
import { type PrivateRedis, startPrivateRedis } from './private-redis.js';

// biome-ignore lint/suspicious/noExplicitAny: API responses are inspected field by field
export type Json = any;

const BUCKET = 'pixelmill-chaos';
export const MODEL = 'gemini-3.1-flash-image';

const config = (simUrl: string) => `
providers:
  - name: gemini
    kind: gemini
    base_url: "${simUrl}"
    api_keys: [sim-chaos-key-1, sim-chaos-key-2]
    models:
      - id: ${MODEL}
        rpm: 6000
        concurrency: 16
        timeout_s: 30
`;

export interface ChaosOptions {
  workers?: number;
  sim?: SimOptions;
  /** Extra environment for the API and every worker. */
  env?: Record<string, string>;
}

/** A JSON line a service logged (pino), or undefined for anything else on its stdout/stderr. */
export function logLines(output: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut by a kill -9.
    }
  }
  return out;
}

export interface Audit {
  submitted: number;
  ended: number;
  succeeded: number;
  failed: number;
  /** Items ended more than once, plus image objects in the bucket that no recorded output names. */
  duplicates: number;
  lost: number;
  /** Items whose provider bytes reached a worker more than once (a paid image generated again). */
  doubleGenerations: number;
  /** Provider calls that returned an image (simulator /__stats successesByPrompt), for these items. */
  providerSuccesses: number;
  /** Image objects under the batch that no item records. */
  strayObjects: string[];
  items: Json[];
  batch: Json;
}

export interface ChaosStack {
  prefix: string;
  dir: string;
  apiUrl: string;
  apiKey: string;
  otherApiKey: string;
  adminKey: string;
  sim: RunningSim;
  redis: PrivateRedis;
  s3: { endpoint: string; stop(): Promise<void>; start(): Promise<void> };
  api: Service;
  workers: Service[];
  env: Record<string, string>;
  startWorker(extraEnv?: Record<string, string>): Promise<Service>;
  call(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; json: Json }>;
  submit(items: unknown[], extra?: Record<string, unknown>): Promise<string>;
  waitForBatch(batchId: string, timeoutMs?: number): Promise<Json>;
  /** Polls the batch until `counts[counter]` reaches `atLeast` (e.g. 8 running, 3 succeeded). */
  waitForCount(batchId: string, counter: string, atLeast: number, timeoutMs?: number): Promise<void>;
  audit(batchId: string): Promise<Audit>;
  /** Every line every service printed so far (killed ones included). */
  output(): string;
  stop(): Promise<void>;
}

/** `count` cheap items (`[sim:64x64]` keeps images tiny) with prompts unique to this run. */
export function chaosItems(
  count: number,
  tag: string,
  extra: (i: number) => Record<string, unknown> = () => ({}),
) {
  return Array.from({ length: count }, (_, i) => ({
    custom_id: `${tag}-${i}`,
    prompt: `Chaos ${tag} product ${i} on white [sim:64x64]`,
    ...extra(i),
  }));
}

/**
 * The product on real parts for fault injection: a private redis-server with AOF (stoppable), an
 * s3rver on a fixed port and directory (restartable), the simulator in this process (faults can be
 * switched on), and the API and workers as child processes with recovery timings short enough for
 * tests (lock 5 s, stalled check every 2 s) and a shared spool directory.
 */
export async function startChaosStack(opts: ChaosOptions = {}): Promise<ChaosStack> {
  const prefix = `chaos-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'pixelmill-chaos-'));
  mkdirSync(join(dir, 'redis'));
  const redis = await startPrivateRedis(join(dir, 'redis'));
  const sim = await startSim({ seed: 7, latencyMs: { min: 50, max: 200 }, ...opts.sim });
  let s3: LocalS3 | undefined = await startLocalS3({ directory: join(dir, 's3'), port: 0, bucket: BUCKET });
  const s3Endpoint = s3.endpoint;
  const s3Port = Number(new URL(s3Endpoint).port);
  const configPath = join(dir, 'pixelmill.yaml');
  writeFileSync(configPath, config(sim.url));
  const apiKey = `sk_chaos_${randomUUID()}`;
  const otherApiKey = `sk_chaos_${randomUUID()}`;
  const adminKey = `admin_${randomUUID()}`;
  const port = await freePort();
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    PIXELMILL_QUEUE_PREFIX: prefix,
    PIXELMILL_CONFIG: configPath,
    PIXELMILL_API_KEYS: `acme:${apiKey},globex:${otherApiKey}`,
    PIXELMILL_ADMIN_KEY: adminKey,
    PIXELMILL_WEBHOOK_ALLOW_PRIVATE: 'true',
    PIXELMILL_WEBHOOK_SCHEDULE_MS: '0,200,500,1000,2000',
    S3_ENDPOINT: s3Endpoint,
    S3_BUCKET: BUCKET,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: localS3Credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localS3Credentials.secretAccessKey,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    WORKER_CONCURRENCY: '4',
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '2000',
    WORKER_SHUTDOWN_TIMEOUT_MS: '5000',
    WORKER_SPOOL_DIR: join(dir, 'spool'),
    WORKER_METRICS_PORT: '0',
    ...opts.env,
  };
  const apiUrl = `http://127.0.0.1:${port}`;
  const api = startService('api', 'services/api/src/main.ts', env);
  const workers: Service[] = [];
  const startWorker = async (extraEnv: Record<string, string> = {}) => {
    const worker = startService('worker', 'services/worker/src/main.ts', { ...env, ...extraEnv });
    workers.push(worker);
    // tsx compiles the worker at start: minutes-long on a 2-core machine shared with other test runs.
    await waitForWorkerStarted(worker, 100_000);
    return worker;
  };
  await Promise.all(Array.from({ length: opts.workers ?? 2 }, () => startWorker()));
  await waitForApiReady(api, apiUrl, 100_000);

  const s3Client = testS3Client(s3Endpoint);
  const call = async (method: string, path: string, body?: unknown, key: string = apiKey) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let json: Json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
  const output = () => [api, ...workers].map((s) => s.output()).join('\n');

  const stack: ChaosStack = {
    prefix,
    dir,
    apiUrl,
    apiKey,
    otherApiKey,
    adminKey,
    sim,
    redis,
    s3: {
      endpoint: s3Endpoint,
      stop: async () => {
        const running = s3;
        s3 = undefined;
        await running?.close();
      },
      start: async () => {
        s3 ??= await startLocalS3({ directory: join(dir, 's3'), port: s3Port, bucket: BUCKET });
      },
    },
    api,
    workers,
    env,
    startWorker,
    call,
    output,
    submit: async (items, extra = {}) => {
      const r = await call('POST', '/v1/batches', { model: MODEL, items, ...extra });
      if (r.status !== 201) throw new Error(`batch refused: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.id as string;
    },
    waitForBatch: (batchId, timeoutMs = 60_000) =>
      waitFor(
        `batch ${batchId} to complete`,
        async () => {
          const r = await call('GET', `/v1/batches/${batchId}`);
          return r.json?.status === 'completed' ? r.json : undefined;
        },
        { timeoutMs, intervalMs: 250 },
      ),
    waitForCount: async (batchId, counter, atLeast, timeoutMs = 30_000) => {
      await waitFor(
        `${atLeast} items of batch ${batchId} to be ${counter}`,
        async () => {
          const r = await call('GET', `/v1/batches/${batchId}`);
          return (r.json?.counts?.[counter] ?? 0) >= atLeast ? true : undefined;
        },
        { timeoutMs, intervalMs: 50 },
      );
    },
    audit: async (batchId) => {
      const batch = (await call('GET', `/v1/batches/${batchId}`)).json;
      const items: Json[] = [];
      let cursor: string | null = null;
      do {
        const page: { json: Json } = await call(
          'GET',
          `/v1/batches/${batchId}/items?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        );
        items.push(...page.json.data);
        cursor = page.json.next_cursor;
      } while (cursor);
      const terminal = items.filter((i) =>
        ['succeeded', 'failed', 'cancelled', 'expired'].includes(i.status),
      );
      const counted = ['succeeded', 'failed', 'cancelled', 'expired'].reduce(
        (sum, k) => sum + (batch.counts?.[k] ?? 0),
        0,
      );
      const recorded = new Set<string>(items.flatMap((i) => i.outputs.map((o: { key: string }) => o.key)));
      const objects: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3Client.send(
          new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${batchId}/`, ContinuationToken: token }),
        );
        objects.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        token = page.NextContinuationToken;
      } while (token);
      const strayObjects = objects.filter(
        (k) => /\/\d+\.(png|jpg|webp)$/.test(k) && !k.includes('.thumb.') && !recorded.has(k),
      );
      const received = new Map<string, number>();
      for (const line of logLines(output())) {
        if (line.msg === 'provider images received and spooled' && line.batch_id === batchId) {
          const id = String(line.item_id);
          received.set(id, (received.get(id) ?? 0) + 1);
        }
      }
      const successes = sim.stats().successesByPrompt;
      const twice = [...received.entries()].filter(([, n]) => n > 1).map(([id]) => id);
      if (twice.length > 0) {
        // Say how it happened: every log line about those items, from every service.
        const lines = output()
          .split('\n')
          .filter((l) => twice.some((id) => l.includes(id)));
        process.stderr.write(`items whose bytes arrived twice: ${twice.join(', ')}\n${lines.join('\n')}\n`);
      }
      return {
        submitted: batch.counts.total,
        ended: terminal.length,
        succeeded: batch.counts.succeeded,
        failed: batch.counts.failed,
        duplicates: Math.max(0, counted - terminal.length) + strayObjects.length,
        lost: batch.counts.total - terminal.length,
        doubleGenerations: [...received.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
        providerSuccesses: items.reduce((sum, i) => sum + (successes[i.prompt] ?? 0), 0),
        strayObjects,
        items,
        batch,
      };
    },
    stop: async () => {
      s3Client.destroy();
      await Promise.all([api, ...workers].map((s) => stopService(s, 'SIGKILL')));
      await sim.close();
      await stack.s3.stop();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

export interface ReportRow {
  fault: string;
  injection: string;
  submitted: number;
  ended: number;
  duplicates: number;
  lost: number;
  doubleGenerations: number;
  providerSuccesses: number;
  recoverMs: number;
  note?: string;
}

/** The columns of a report row that come straight from an audit. */
export function auditCounts(
  a: Audit,
): Pick<
  ReportRow,
  'submitted' | 'ended' | 'duplicates' | 'lost' | 'doubleGenerations' | 'providerSuccesses'
> {
  const { submitted, ended, duplicates, lost, doubleGenerations, providerSuccesses } = a;
  return { submitted, ended, duplicates, lost, doubleGenerations, providerSuccesses };
}

/** Appends one row of the reliability table (docs/reliability.md) when `pnpm chaos:report` runs. */
export function recordRow(row: ReportRow): void {
  const file = process.env.CHAOS_REPORT_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}
