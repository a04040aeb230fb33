import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStartupConfigOrExit, s3OptionsFromEnv } from '@pixelmill/config';
import {
  BatchSpecCache,
  BatchStore,
  connectRedis,
  duplicateConnection,
  FeedStore,
  finishedWithin,
  masterNodes,
  OutboxStore,
  type QaCheckName,
  QaIndexStore,
  Queues,
  shutdownInOrder,
  untilReady,
} from '@pixelmill/core';
import { createLogger } from '@pixelmill/logger';
import { buildRegistry } from '@pixelmill/providers';
import {
  createCircuitBreaker,
  createKeyRevocations,
  createLimiter,
  schedulingPrefixes,
} from '@pixelmill/ratelimit';
import { createS3Store } from '@pixelmill/storage';
import { deliverySchedule } from '@pixelmill/webhooks';
import sharp from 'sharp';
import { checkRedisPersistence } from './check-redis.js';
import { defaultQaThresholds } from './generate/qa/thresholds.js';
import { configureLimits } from './generate/resources.js';
import { Spool } from './generate/spool.js';
import { UploadGate } from './generate/upload-gate.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { createWorkerMetrics, instrumentRegistry } from './metrics/worker-metrics.js';
import { startOutboxRelay } from './outbox/relay.js';
import { startWorkers } from './workers.js';

const { env, config } = loadStartupConfigOrExit();

// Every output is decoded once: libvips' operation cache (up to 50 MB by default) would only hold
// memory, which a results file of 4K images turns into resident set growth.
sharp.cache(false);

const logger = createLogger({ name: 'worker', level: env.LOG_LEVEL });
// BullMQ workers block on Redis: their connections must never give up on a command. While Redis is
// away, commands wait for the reconnection and then carry on.
const redis = connectRedis(
  { url: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES },
  { maxRetriesPerRequest: null },
);
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
// The delivery path's own reads and writes (never BullMQ's), auto-pipelined: what the concurrent
// attempts send in one tick leaves in one write.
const deliveryRedis = duplicateConnection(redis, { enableAutoPipelining: true });
deliveryRedis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
const baseRegistry = buildRegistry({ ...(config ? { providers: config.providers } : {}), env: process.env });
const objects = createS3Store(s3OptionsFromEnv(env));
const queues = new Queues(redis, env.PIXELMILL_QUEUE_PREFIX);
const limiter = createLimiter(redis, { prefix: `${env.PIXELMILL_QUEUE_PREFIX}:rl` });
const spool = new Spool(env.WORKER_SPOOL_DIR ?? join(tmpdir(), 'pixelmill-spool'));
const uploads = new UploadGate(env.WORKER_MAX_PENDING_UPLOAD_BYTES);
const circuit = createCircuitBreaker(redis, {
  prefix: schedulingPrefixes(env.PIXELMILL_QUEUE_PREFIX).circuit,
});
const revocations = createKeyRevocations(redis, { prefix: `${env.PIXELMILL_QUEUE_PREFIX}:rl` });
const metrics = createWorkerMetrics({
  registry: baseRegistry,
  limiter,
  uploads,
  spool,
  circuit,
  revocations,
  outbox: new OutboxStore(redis, env.PIXELMILL_QUEUE_PREFIX),
});
const registry = instrumentRegistry(baseRegistry, metrics);
const store = new BatchStore(redis, env.PIXELMILL_QUEUE_PREFIX);
const deps = {
  redis,
  deliveryRedis,
  store,
  feeds: new FeedStore(redis, env.PIXELMILL_QUEUE_PREFIX),
  specs: new BatchSpecCache(store),
  queues,
  registry,
  objects,
  limiter,
  logger,
  spool,
  uploads,
  qa: {
    thresholds: {
      blankMinStdev: env.QA_BLANK_MIN_STDEV ?? defaultQaThresholds.blankMinStdev,
      duplicateMaxDistance: env.QA_DUPLICATE_MAX_DISTANCE ?? defaultQaThresholds.duplicateMaxDistance,
      aspectTolerance: env.QA_ASPECT_TOLERANCE ?? defaultQaThresholds.aspectTolerance,
      minResolution: env.QA_MIN_RESOLUTION ?? defaultQaThresholds.minResolution,
    },
    index: new QaIndexStore(redis, env.PIXELMILL_QUEUE_PREFIX),
    onFlagged: (checks: QaCheckName[]) => {
      for (const check of checks) metrics.qaFlagged.inc({ check });
    },
    onRegenerated: (outputs: number) => metrics.qaRegenerated.inc(outputs),
  },
  options: {
    concurrency: env.WORKER_CONCURRENCY,
    itemAttempts: env.WORKER_ITEM_ATTEMPTS,
    feedHighWater: env.PIXELMILL_FEED_HIGH_WATER,
    itemDeadlineMs: env.WORKER_ITEM_DEADLINE_MS,
    circuit: { failures: env.WORKER_CIRCUIT_FAILURES, openMs: env.WORKER_CIRCUIT_OPEN_MS },
    allowPrivateUrls: env.PIXELMILL_WEBHOOK_ALLOW_PRIVATE,
    webhookScheduleMs: env.PIXELMILL_WEBHOOK_SCHEDULE_MS ?? [...deliverySchedule],
    webhookTimeoutMs: env.PIXELMILL_WEBHOOK_TIMEOUT_MS,
    webhookTargetConcurrency: env.PIXELMILL_WEBHOOK_ENDPOINT_CONCURRENCY,
    presignTtlS: env.PIXELMILL_PRESIGN_TTL_S,
    uploadRetryMs: env.WORKER_UPLOAD_RETRY_MS,
    economy: {
      pollMinMs: env.WORKER_ECONOMY_POLL_MIN_MS,
      pollMaxMs: env.WORKER_ECONOMY_POLL_MAX_MS,
      autoMarginMs: env.WORKER_AUTO_MARGIN_MS,
      autoCallMs: env.WORKER_AUTO_CALL_MS,
    },
    workerId: `${hostname()}:${process.pid}`,
    itemLeaseMs: env.WORKER_ITEM_LEASE_MS ?? 2 * env.WORKER_LOCK_DURATION_MS,
  },
};

await untilReady(redis);
// Every master holds part of the work: each must keep it.
for (const node of masterNodes(redis)) await checkRedisPersistence(node, logger);
await configureLimits(limiter, registry, { windowMs: env.PIXELMILL_RATE_WINDOW_MS });
const metricsServer =
  env.WORKER_METRICS_PORT === undefined
    ? undefined
    : await startMetricsServer(metrics.registry, { port: env.WORKER_METRICS_PORT, host: env.HOST });
const running = startWorkers(deps, redis, {
  lockDurationMs: env.WORKER_LOCK_DURATION_MS,
  stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
  maxStalledCount: 5,
});
const relay = startOutboxRelay(deps, { claimIdleMs: env.WORKER_OUTBOX_CLAIM_IDLE_MS });
logger.info(
  {
    models: registry.list().map((m) => m.id),
    concurrency: env.WORKER_CONCURRENCY,
    spool_dir: spool.dir,
    lock_duration_ms: env.WORKER_LOCK_DURATION_MS,
    stalled_interval_ms: env.WORKER_STALLED_INTERVAL_MS,
    item_lease_ms: deps.options.itemLeaseMs,
    ...(metricsServer ? { metrics_port: metricsServer.port } : {}),
  },
  'worker started',
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal, active_jobs: running.activeJobs() }, 'shutting down');
    shutdownInOrder(
      [
        // Stop taking jobs and let running ones finish. Past the deadline, hand them back to their
        // queues so another worker takes them at once (a second close() would only await the first).
        [
          'drain workers',
          async () => {
            running.stopSweeps();
            const closing = running.close();
            if (await finishedWithin(closing, env.WORKER_SHUTDOWN_TIMEOUT_MS)) return;
            const handed = await running.handBack();
            logger.warn({ handed_back: handed }, 'running jobs did not finish in time; handed them back');
          },
          env.WORKER_SHUTDOWN_TIMEOUT_MS + 5000,
        ],
        ['stop outbox relay', () => relay.stop(), 5000],
        ['close queues', () => queues.close(), 5000],
        ['close redis', () => Promise.all([redis.quit(), deliveryRedis.quit()]), 5000],
        ['close bucket client', async () => objects.destroy(), 1000],
        ['close metrics server', async () => metricsServer?.close(), 2000],
      ],
      logger,
    ).then((clean) => process.exit(clean ? 0 : 1));
  });
}
