/**
 * In-process API fixture on real parts: the shared Redis (isolated by a unique key prefix), an s3rver
 * on a free port, a model registry whose gemini provider points at a running provider simulator, the
 * real BatchStore and Queues, and a silent logger. Tests call `app.request()`; no HTTP server for the API.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { type ResponseCheck, ResponseValidator } from '@pixelmill/client/contract';
import { BatchStore, FeedStore, Queues } from '@pixelmill/core';
import { deleteKeysUnder } from '@pixelmill/core/test-support';
import { createLogger } from '@pixelmill/logger';
import { type RunningSim, startSim } from '@pixelmill/provider-sim';
import { buildRegistry, type ModelRegistry, providerConfigEntrySchema } from '@pixelmill/providers';
import {
  createS3Store,
  type LocalS3,
  localS3Credentials,
  type S3Store,
  startLocalS3,
} from '@pixelmill/storage';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { createApp } from '../app.js';
import type { AppDeps } from '../deps.js';
import { openApiConfig } from '../openapi/document.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BUCKET = 'pixelmill-api-test';
/** The model most tests use; `nano-banana-pro` is one of its aliases. */
export const MODEL = 'gemini-3-pro-image';

export interface Tenant {
  id: string;
  key: string;
}

export interface TestEnv {
  prefix: string;
  redis: Redis;
  store: BatchStore;
  queues: Queues;
  registry: ModelRegistry;
  objects: S3Store;
  s3: LocalS3;
  sim: RunningSim;
  deps: AppDeps;
  app: OpenAPIHono;
  acme: Tenant;
  globex: Tenant;
  /** The same deps with some options changed (the parts stay shared). */
  appWith(options: Partial<AppDeps['options']>): OpenAPIHono;
  /** Stops the s3rver (idempotent), e.g. to see /readyz fail. */
  stopS3(): Promise<void>;
  close(): Promise<void>;
}

export interface TestEnvOptions {
  options?: Partial<AppDeps['options']>;
  /** Builds the Queues given to the app (e.g. one whose enqueue fails); defaults to the real class. */
  queues?: (redis: Redis, prefix: string) => Queues;
}

const defaultOptions: AppDeps['options'] = {
  maxItemsPerBatch: 5000,
  maxBodyBytes: 1_000_000,
  presignTtlS: 900,
  allowPrivateWebhooks: false,
  itemAttempts: 3,
  feedHighWater: 500,
};

export async function startTestEnv(opts: TestEnvOptions = {}): Promise<TestEnv> {
  const prefix = `test-api-${randomUUID().slice(0, 8)}`;
  const dir = await mkdtemp(join(tmpdir(), 'pixelmill-api-test-'));
  const sim = await startSim({ port: 0 });
  const s3 = await startLocalS3({ directory: dir, port: 0, bucket: BUCKET });
  const objects = createS3Store({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    bucket: BUCKET,
    forcePathStyle: true,
    credentials: localS3Credentials,
  });
  const registry = buildRegistry({
    providers: [
      providerConfigEntrySchema.parse({
        name: 'gemini',
        kind: 'gemini',
        base_url: sim.url,
        api_keys: ['sim-key-1'],
        models: [{ id: MODEL, rpm: 600, concurrency: 8 }, { id: 'gemini-3.1-flash-image' }],
      }),
      // Declared without a key: listed, but batches for it are refused.
      providerConfigEntrySchema.parse({
        name: 'openai',
        kind: 'openai-images',
        base_url: sim.url,
        api_keys: [],
        models: [{ id: 'gpt-image-2' }],
      }),
    ],
  });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = opts.queues ? opts.queues(redis, prefix) : new Queues(redis, prefix);
  const acme = { id: 'acme', key: `sk_test_${randomUUID()}` };
  const globex = { id: 'globex', key: `sk_test_${randomUUID()}` };
  const deps: AppDeps = {
    redis,
    store: new BatchStore(redis, prefix),
    feeds: new FeedStore(redis, prefix),
    queues,
    registry,
    objects,
    logger: createLogger({ name: 'api-test', level: 'silent' }),
    apiKeys: [
      { tenantId: acme.id, key: acme.key },
      { tenantId: globex.id, key: globex.key },
    ],
    options: { ...defaultOptions, ...opts.options },
  };
  let closed = false;
  let s3Stopped: Promise<void> | undefined;
  const stopS3 = () => {
    s3Stopped ??= s3.close();
    return s3Stopped;
  };
  return {
    prefix,
    redis,
    store: deps.store,
    queues,
    registry,
    objects,
    s3,
    sim,
    deps,
    app: createApp(deps),
    acme,
    globex,
    appWith: (options) => createApp({ ...deps, options: { ...deps.options, ...options } }),
    stopS3,
    close: async () => {
      if (closed) return;
      closed = true;
      await queues.close();
      await deleteKeysUnder(redis, prefix);
      await redis.quit();
      objects.destroy();
      await stopS3();
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every key under the prefix (SCAN, so a shared Redis is not blocked), sorted. */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out.sort();
}

/**
 * BullMQ's own bookkeeping of a queue, which may appear or change without any job existing: the queue's
 * meta hash, its event stream, its job and priority counters and the marker that wakes workers.
 */
function isQueueBookkeeping(prefix: string, key: string): boolean {
  // BullMQ's own queue keys, and the fair-queue scheduler's per-model clock (`fq:<queue>`), which is
  // shared by every tenant of the model and not part of any one batch.
  return (
    new RegExp(
      `^${prefix}:\\{(generate-[^:]+|economy)\\}:(generate-[^:]+|economy):(meta|events|pc|marker|id)$`,
    ).test(key) || new RegExp(`^${prefix}:\\{generate-[^:]+\\}:fq:generate-[^:]+$`).test(key)
  );
}

/** Keys under the prefix that are not BullMQ bookkeeping: batches, items, tenant lists, jobs, queue lists. */
export async function dataKeys(env: Pick<TestEnv, 'redis' | 'prefix'>): Promise<string[]> {
  return (await keysUnder(env.redis, env.prefix)).filter((k) => !isQueueBookkeeping(env.prefix, k));
}

/** Jobs of a queue in every state. */
export async function allJobs(queue: Queue) {
  return queue.getJobs([
    'wait',
    'prioritized',
    'waiting-children',
    'active',
    'delayed',
    'completed',
    'failed',
  ]);
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected field by field
export type Json = any;

export interface Reply {
  status: number;
  headers: Headers;
  json: Json;
}

/** One call to the in-process app; a body that is not a string is sent as JSON. */
export async function call(
  app: OpenAPIHono,
  method: string,
  path: string,
  opts: { key?: string | undefined; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {
    ...(opts.key !== undefined ? { authorization: `Bearer ${opts.key}` } : {}),
    ...(opts.body !== undefined && typeof opts.body !== 'string'
      ? { 'content-type': 'application/json' }
      : {}),
    ...opts.headers,
  };
  const body =
    opts.body === undefined
      ? undefined
      : typeof opts.body === 'string'
        ? opts.body
        : JSON.stringify(opts.body);
  const res = await app.request(`http://api.test${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let json: Json = null;
  if (text !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
  }
  expectDocumented(app, {
    method,
    path,
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: json,
  });
  return { status: res.status, headers: res.headers, json };
}

const validators = new WeakMap<OpenAPIHono, ResponseValidator>();

/** Fails the test when an answer is not what the app's own /openapi.json document says it can be. */
function expectDocumented(app: OpenAPIHono, r: ResponseCheck): void {
  let validator = validators.get(app);
  if (validator === undefined) {
    validator = new ResponseValidator(app.getOpenAPI31Document(openApiConfig));
    validators.set(app, validator);
  }
  expect(validator.check(r), `${r.method} ${r.path} → ${r.status} against /openapi.json`).toEqual([]);
}

/** A valid batch item. */
export const item = (customId: string, extra: Record<string, unknown> = {}) => ({
  custom_id: customId,
  prompt: `Studio product shot of ${customId}`,
  ...extra,
});

/** Asserts the API's error shape and returns its details. */
export function expectError(r: Reply, status: number, code: string): { path: string; message: string }[] {
  expect(r.status, JSON.stringify(r.json)).toBe(status);
  expect(r.json).toEqual({ error: { code, message: expect.any(String), details: expect.any(Array) } });
  expect(r.json.error.message).not.toBe('');
  for (const d of r.json.error.details)
    expect(d).toEqual({ path: expect.any(String), message: expect.any(String) });
  return r.json.error.details;
}

/** What an accepted batch writes: data keys under the prefix, jobs of the given models' queues, a tenant's list. */
export async function writtenState(env: TestEnv, tenant: Tenant, models: string[] = [MODEL]) {
  const jobs: Record<string, number> = {};
  for (const m of models) jobs[m] = (await allJobs(env.queues.generate(m))).length;
  return {
    keys: await dataKeys(env),
    jobs,
    tenantBatches: await env.redis.zrange(env.store.keys.tenantBatches(tenant.id), '0', '-1'),
  };
}
