import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResponseValidator } from '@pixelmill/client/contract';
import { type RunningSim, type SimOptions, startSim } from '@pixelmill/provider-sim';
import { type LocalS3, localS3Credentials, startLocalS3 } from '@pixelmill/storage';
import { type Service, startService, stopService, waitFor, waitForApiReady } from './processes.js';
import { deletePrefix } from './redis-cleanup.js';
import type { TestRedisCluster } from './redis-cluster.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BUCKET = 'pixelmill-e2e';

/**
 * A port the kernel just handed out and released. Far less likely to collide than a random pick
 * (parallel test files, other services); the API reports EADDRINUSE loudly if it still does.
 */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export interface StackOptions {
  workers?: number;
  sim?: SimOptions;
  /** PIXELMILL_CONFIG body; `{{SIM_URL}}` is replaced by the simulator's URL. */
  config?: string;
  env?: Record<string, string>;
  /** How long the API and workers may take to start (default 60 s; more for a loaded machine). */
  startTimeoutMs?: number;
  /** Run on this Redis Cluster (redis-cluster.ts) instead of the shared Redis at REDIS_URL. */
  redisCluster?: Pick<TestRedisCluster, 'nodes'>;
}

const defaultConfig = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [sim-key-1, sim-key-2]
    models:
      - id: gemini-3-pro-image
        rpm: 600
        concurrency: 8
        timeout_s: 30
      - id: gemini-3.1-flash-image
        rpm: 600
        concurrency: 8
        timeout_s: 30
`;

export interface Stack {
  prefix: string;
  /** The stack's temporary folder; s3rver keeps the bucket in `<directory>/s3/<bucket>`. */
  directory: string;
  apiUrl: string;
  apiKey: string;
  otherApiKey: string;
  sim: RunningSim;
  s3: LocalS3;
  api: Service;
  workers: Service[];
  env: Record<string, string>;
  /** Starts one more worker; `extraEnv` adds variables for it alone (crash hooks). */
  startWorker: (extraEnv?: Record<string, string>) => Service;
  stop: () => Promise<void>;
}

/**
 * The whole product on real parts: Redis (shared, isolated by a unique prefix), s3rver, the provider
 * simulator over HTTP, and the API and workers as separate processes.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'pixelmill-e2e-'));
  const sim = await startSim({ seed: 42, ...opts.sim });
  const s3 = await startLocalS3({ directory: join(dir, 's3'), port: 0, bucket: BUCKET });
  const configPath = join(dir, 'pixelmill.yaml');
  writeFileSync(configPath, (opts.config ?? defaultConfig).replaceAll('{{SIM_URL}}', sim.url));
  const apiKey = `sk_test_${randomUUID()}`;
  const otherApiKey = `sk_test_${randomUUID()}`;
  const port = await freePort();
  const clusterNodes = opts.redisCluster?.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  const env: Record<string, string> = {
    REDIS_URL,
    ...(clusterNodes
      ? { REDIS_CLUSTER_NODES: clusterNodes.map((n) => `${n.host}:${n.port}`).join(',') }
      : {}),
    PIXELMILL_QUEUE_PREFIX: prefix,
    PIXELMILL_CONFIG: configPath,
    PIXELMILL_API_KEYS: `acme:${apiKey},globex:${otherApiKey}`,
    PIXELMILL_WEBHOOK_ALLOW_PRIVATE: 'true',
    PIXELMILL_WEBHOOK_SCHEDULE_MS: '0,200,500,1000,2000',
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: BUCKET,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: localS3Credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localS3Credentials.secretAccessKey,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    WORKER_CONCURRENCY: '8',
    ...opts.env,
  };
  const apiUrl = `http://127.0.0.1:${port}`;
  const api = startService('api', 'services/api/src/main.ts', env);
  const workers: Service[] = [];
  const startWorker = (extraEnv: Record<string, string> = {}) => {
    const worker = startService('worker', 'services/worker/src/main.ts', { ...env, ...extraEnv });
    workers.push(worker);
    return worker;
  };
  for (let i = 0; i < (opts.workers ?? 2); i++) startWorker();
  await waitForApiReady(api, apiUrl, opts.startTimeoutMs ?? 120_000);
  await waitFor(
    'the workers to start',
    () => (workers.every((w) => w.output().includes('worker started')) ? true : undefined),
    {
      timeoutMs: opts.startTimeoutMs ?? 120_000,
    },
  );
  return {
    prefix,
    directory: dir,
    apiUrl,
    apiKey,
    otherApiKey,
    sim,
    s3,
    api,
    workers,
    env,
    startWorker,
    stop: async () => {
      await Promise.all([api, ...workers].map((s) => stopService(s)));
      await sim.close();
      await s3.close();
      await deletePrefix(REDIS_URL, prefix, clusterNodes);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JSON call to the API with the given key. */
export async function call(
  stack: Pick<Stack, 'apiUrl'>,
  key: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: the body is checked against openapi.json below, at run time; tests read the fields they assert on.
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  const problems = contract().check({
    method,
    path,
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: json,
  });
  if (problems.length > 0)
    throw new Error(`${method} ${path} → ${res.status} against openapi.json:\n${problems.join('\n')}`);
  return { status: res.status, json };
}

/** Every item of a batch, page by page (`limit` per page), through the API. */
export async function allItems(
  stack: Pick<Stack, 'apiUrl'>,
  key: string,
  batchId: string,
  limit = 500,
  // biome-ignore lint/suspicious/noExplicitAny: items as the API answers them (checked against openapi.json by call).
): Promise<any[]> {
  const out = [];
  let cursor: string | null = null;
  do {
    const page = await call(
      stack,
      key,
      'GET',
      `/v1/batches/${batchId}/items?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    out.push(...page.json.data);
    cursor = page.json.next_cursor;
  } while (cursor);
  return out;
}

let validator: ResponseValidator | undefined;
/** The API's published contract (@pixelmill/client's openapi.json): every answer here must match it. */
function contract(): ResponseValidator {
  validator ??= new ResponseValidator(
    JSON.parse(readFileSync(fileURLToPath(import.meta.resolve('@pixelmill/client/openapi.json')), 'utf8')),
  );
  return validator;
}
