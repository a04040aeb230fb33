/**
 * The generation worker in this process on real parts, for tests that need the whole item flow:
 * Redis (a unique key prefix, deleted on close), s3rver behind an ObjectStore wrapper that can answer
 * chosen PUTs with SDK-shaped errors and counts PUTs per key, the provider simulator over HTTP, a
 * spool directory of its own, and BatchStore/queue calls like the API's to accept a batch.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BatchSpec,
  BatchSpecCache,
  BatchStore,
  createFairScheduler,
  FeedStore,
  type Item,
  itemIdFor,
  jobFor,
  jobs,
  newBatchId,
  QaIndexStore,
  type QaPolicy,
  Queues,
} from '@pixelmill/core';
import { insertFedItems } from '@pixelmill/core/test-support';
import { createLogger } from '@pixelmill/logger';
import { type RunningSim, startSim } from '@pixelmill/provider-sim';
import { buildRegistry } from '@pixelmill/providers';
import { createCircuitBreaker, createLimiter, schedulingPrefixes } from '@pixelmill/ratelimit';
import {
  createS3Store,
  type LocalS3,
  localS3Credentials,
  type ObjectStore,
  startLocalS3,
} from '@pixelmill/storage';
import { Redis } from 'ioredis';
import { vi } from 'vitest';
import type { WorkerDeps } from '../deps.js';
import { defaultQaThresholds } from '../generate/qa/thresholds.js';
import { configureLimits } from '../generate/resources.js';
import { Spool } from '../generate/spool.js';
import { UploadGate } from '../generate/upload-gate.js';
import { createWorkerMetrics, type WorkerMetrics } from '../metrics/worker-metrics.js';
import { type RunningWorkers, startWorkers } from '../workers.js';

export const MODEL = 'sim-image';
const BUCKET = 'pixelmill-worker-test';

/** Decides the fate of one PUT before it reaches s3rver: throw to fail it, return to let it through. */
export type PutFault = (key: string) => void;

export interface Harness {
  deps: WorkerDeps;
  metrics: WorkerMetrics | undefined;
  sim: RunningSim;
  /** PUTs tried per key (failed ones included). */
  puts: Map<string, number>;
  /** Replaces the fault applied to every PUT (none by default). */
  setPutFault(fault: PutFault | undefined): void;
  /** Log lines at warn (40) or above, parsed. */
  logLines(): { level: number; msg: string }[];
  /** Check names the QA flag counter was told, in order (one entry per flagging check). */
  qaFlags: string[];
  /** Flagged outputs the qa policy regenerated, as the metric would count them. */
  qaRegenerated(): number;
  /**
   * Accepts a one-item-per-custom-id batch for `tenant`, like the API (visible, then enqueued). Each
   * item's prompt is `prompts[custom_id]`, or a unique one forcing a 64x64 image.
   */
  submit(tenant: string, customIds: string[], opts?: SubmitOptions): Promise<Accepted>;
  /** Enqueues the generation jobs of an accepted batch (when submit was told not to). */
  enqueue(accepted: Accepted): Promise<void>;
  close(): Promise<void>;
}

export interface SubmitOptions {
  enqueue?: boolean;
  prompts?: Record<string, string>;
  aspectRatio?: string | null;
  /** The batch's QA policy (absent: keep). */
  qa?: QaPolicy;
  /** Images per item (default 1). */
  n?: number;
  /** The batch's `dedupe`. */
  dedupe?: boolean;
}

export interface Accepted {
  batchId: string;
  tenant: string;
  itemIds: Record<string, string>;
}

/** Waits (polling, up to timeoutMs) for the batch to complete and returns its items by custom_id. */
export async function finishedItems(
  h: Harness,
  a: Accepted,
  timeoutMs: number,
): Promise<Record<string, Item>> {
  await vi.waitFor(
    async () => {
      const found = await h.deps.store.getBatchInternal(a.batchId);
      if (!found?.batch.completed_at) throw new Error(`batch ${a.batchId} is ${found?.batch.status}`);
    },
    { timeout: timeoutMs, interval: 100 },
  );
  const out: Record<string, Item> = {};
  for (const [customId, itemId] of Object.entries(a.itemIds)) {
    const item = await h.deps.store.getItem(itemId);
    if (item === null) throw new Error(`item ${customId} missing`);
    out[customId] = item;
  }
  return out;
}

/** An S3 error as the AWS SDK v3 builds it from an error answer (name from `<Code>`, status in $metadata). */
export function sdkError(name: string, status: number, message = `${name} (test)`): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

export async function startHarness(opts: {
  uploadRetryMs: number;
  webhookTimeoutMs?: number;
  webhookTargetConcurrency?: number;
  /** Builds worker metrics (`harness.metrics`) and hands them to the workers, as main.ts does. */
  metrics?: boolean;
}): Promise<Harness> {
  const prefix = `test-worker-${randomUUID().slice(0, 8)}`;
  const dir = await mkdtemp(join(tmpdir(), 'pixelmill-worker-'));
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const sim = await startSim({ seed: 3, latencyMs: { min: 20, max: 50 } });
  const s3: LocalS3 = await startLocalS3({ directory: join(dir, 's3'), bucket: BUCKET });
  const s3Store = createS3Store({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    bucket: BUCKET,
    forcePathStyle: true,
    credentials: localS3Credentials,
  });
  const puts = new Map<string, number>();
  let fault: PutFault | undefined;
  const objects: ObjectStore = {
    ...s3Store,
    put: async (key, body, contentType) => {
      puts.set(key, (puts.get(key) ?? 0) + 1);
      fault?.(key);
      return s3Store.put(key, body, contentType);
    },
  };
  const lines: string[] = [];
  const logger = createLogger({
    name: 'worker-test',
    level: 'info',
    destination: { write: (line: string) => void lines.push(line) },
  });
  const registry = buildRegistry({
    providers: [
      {
        name: 'sim',
        kind: 'gemini',
        base_url: sim.url,
        api_keys: ['sim-worker-key'],
        models: [{ id: MODEL, rpm: 6000, concurrency: 8, timeout_s: 30 }],
      },
    ],
  });
  const limiter = createLimiter(redis, { prefix: `${prefix}:rl` });
  await configureLimits(limiter, registry);
  const qaFlags: string[] = [];
  let qaRegenerated = 0;
  const store = new BatchStore(redis, prefix);
  const deps: WorkerDeps = {
    redis,
    store,
    feeds: new FeedStore(redis, prefix),
    specs: new BatchSpecCache(store),
    queues: new Queues(redis, prefix),
    registry,
    objects,
    limiter,
    logger,
    spool: new Spool(join(dir, 'spool')),
    uploads: new UploadGate(256 * 1024 * 1024),
    qa: {
      thresholds: defaultQaThresholds,
      index: new QaIndexStore(redis, prefix),
      onFlagged: (checks) => qaFlags.push(...checks),
      onRegenerated: (outputs) => {
        qaRegenerated += outputs;
      },
    },
    options: {
      concurrency: 4,
      itemAttempts: 3,
      feedHighWater: 500,
      itemDeadlineMs: 600_000,
      circuit: { failures: 5, openMs: 30_000 },
      allowPrivateUrls: true,
      webhookScheduleMs: [0],
      webhookTimeoutMs: opts.webhookTimeoutMs ?? 5_000,
      webhookTargetConcurrency: opts.webhookTargetConcurrency ?? 10,
      presignTtlS: 300,
      uploadRetryMs: opts.uploadRetryMs,
      workerId: `test:${prefix}`,
      itemLeaseMs: 10_000,
    },
  };
  const metrics =
    opts.metrics === true
      ? createWorkerMetrics({
          registry,
          limiter,
          uploads: deps.uploads,
          spool: deps.spool,
          circuit: createCircuitBreaker(redis, { prefix: schedulingPrefixes(prefix).circuit }),
        })
      : undefined;
  const running: RunningWorkers = startWorkers(
    deps,
    redis,
    { lockDurationMs: 10_000, stalledIntervalMs: 5_000, maxStalledCount: 5 },
    metrics,
  );

  const enqueue = async (a: Accepted) => {
    await createFairScheduler(redis).addBulk(
      deps.queues.generate(MODEL),
      { tenant: a.tenant, priority: 'normal' },
      Object.values(a.itemIds).map((itemId) =>
        jobFor(
          jobs.generate,
          { batch_id: a.batchId, item_id: itemId, tenant_id: a.tenant },
          { options: { attempts: deps.options.itemAttempts } },
        ),
      ),
    );
  };

  return {
    deps,
    metrics,
    sim,
    puts,
    setPutFault: (f) => {
      fault = f;
    },
    logLines: () =>
      lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 40),
    qaFlags,
    qaRegenerated: () => qaRegenerated,
    enqueue,
    submit: async (
      tenant,
      customIds,
      { enqueue: now = true, prompts = {}, aspectRatio = null, qa, n = 1, dedupe = false } = {},
    ) => {
      const batchId = newBatchId();
      const spec: BatchSpec = {
        model: MODEL,
        created_at: new Date().toISOString(),
        webhook: null,
        output: { prefix: '', format: 'png' },
        priority: 'normal',
        metadata: {},
        estimated_micros: 0,
        images_requested: customIds.length * n,
        models: [MODEL],
        ...(qa ? { qa } : {}),
        dedupe,
      };
      const itemIds = Object.fromEntries(customIds.map((c) => [c, itemIdFor(batchId, c)]));
      await deps.store.insertBatch({ id: batchId, tenantId: tenant, spec });
      await insertFedItems(
        deps.store,
        batchId,
        tenant,
        customIds.map((c, i) => ({
          id: itemIds[c] as string,
          where: `line ${i + 1}`,
          spec: {
            custom_id: c,
            model: MODEL,
            prompt: prompts[c] ?? `Worker test ${batchId} ${c} [sim:64x64]`,
            size: '1K',
            aspect_ratio: aspectRatio,
            n,
            reference_images: [],
            metadata: {},
          },
        })),
      );
      await deps.store.publishBatch(batchId, tenant);
      const accepted = { batchId, tenant, itemIds };
      if (now) await enqueue(accepted);
      return accepted;
    },
    close: async () => {
      running.stopSweeps();
      await running.close(true).catch(() => undefined);
      await deps.queues.close();
      s3Store.destroy();
      await s3.close();
      await sim.close();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
