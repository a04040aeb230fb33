import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { loadStartupConfigOrExit, s3OptionsFromEnv } from '@pixelmill/config';
import {
  BatchStore,
  connectRedis,
  FeedStore,
  finishedWithin,
  Queues,
  QuotaStore,
  shutdownInOrder,
} from '@pixelmill/core';
import { createLogger } from '@pixelmill/logger';
import { buildRegistry } from '@pixelmill/providers';
import { createS3Store } from '@pixelmill/storage';
import { createApp } from './app.js';
import { tenantQuotasFrom } from './batches/tenant-quota.js';
import { createApiMetrics } from './metrics/api-metrics.js';

const { env, config } = loadStartupConfigOrExit();

const logger = createLogger({ name: 'api', level: env.LOG_LEVEL });
let apiKeys = env.PIXELMILL_API_KEYS ?? [];
if (apiKeys.length === 0) {
  // No keys configured: make a random demo key and print it once, rather than ship a guessable default.
  const key = `sk_demo_${randomBytes(18).toString('base64url')}`;
  apiKeys = [{ tenantId: 'demo', key }];
  process.stdout.write(`PIXELMILL_API_KEYS is not set; demo tenant key for this run: ${key}\n`);
}
// Fail fast while Redis is away: no offline queue, one retry for a command caught by a disconnect. A
// request then answers 503 at once instead of hanging (middleware/redis-gate.ts); workers, not the API,
// wait for Redis to return.
const redis = connectRedis(
  { url: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES },
  { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
);
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
const objects = createS3Store(s3OptionsFromEnv(env));
const queues = new Queues(redis, env.PIXELMILL_QUEUE_PREFIX);
const store = new BatchStore(redis, env.PIXELMILL_QUEUE_PREFIX);
const feeds = new FeedStore(redis, env.PIXELMILL_QUEUE_PREFIX);
// The batch gauges walk the store's tenant set; tenants of batches stored without it are added once.
redis.once('ready', () => {
  store.registerListedTenants().catch((err) => logger.warn({ err }, 'could not register listed tenants'));
});
const registry = buildRegistry({ ...(config ? { providers: config.providers } : {}), env: process.env });
const quotas = tenantQuotasFrom(new QuotaStore(redis, env.PIXELMILL_QUEUE_PREFIX), env, config?.tenants);
for (const tenantId of Object.keys(quotas.overrides)) {
  if (!apiKeys.some((k) => k.tenantId === tenantId))
    logger.warn({ tenant_id: tenantId }, 'PIXELMILL_CONFIG tenants names a tenant without an API key');
}
const app = createApp({
  redis,
  store,
  feeds,
  queues,
  registry,
  adminKey: env.PIXELMILL_ADMIN_KEY,
  metrics: createApiMetrics({ redis, store, queues, registry }, { processMetrics: true }),
  objects,
  logger,
  apiKeys,
  quotas,
  options: {
    maxItemsPerBatch: env.PIXELMILL_MAX_ITEMS_PER_BATCH,
    maxBodyBytes: env.PIXELMILL_MAX_BODY_BYTES,
    presignTtlS: env.PIXELMILL_PRESIGN_TTL_S,
    allowPrivateWebhooks: env.PIXELMILL_WEBHOOK_ALLOW_PRIVATE,
    itemAttempts: env.WORKER_ITEM_ATTEMPTS,
    feedHighWater: env.PIXELMILL_FEED_HIGH_WATER,
    economyJobSize: env.PIXELMILL_ECONOMY_JOB_SIZE,
  },
});

const server = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, (info) => {
  logger.info({ port: info.port }, 'api listening');
  process.stdout.write(`pixelmill API listening on http://127.0.0.1:${info.port}\n`);
});
(server as Server).requestTimeout = env.PIXELMILL_REQUEST_TIMEOUT_MS;

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    shutdownInOrder(
      [
        // Stop accepting connections and let in-flight requests finish.
        [
          'stop http server',
          async () => {
            const http = server as unknown as {
              closeIdleConnections?: () => void;
              closeAllConnections?: () => void;
            };
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            // Keep-alive sockets go idle once their in-flight request is answered: close them as they do.
            const idle = setInterval(() => http.closeIdleConnections?.(), 100);
            try {
              if (!(await finishedWithin(closed, 10_000))) http.closeAllConnections?.();
            } finally {
              clearInterval(idle);
            }
          },
          15_000,
        ],
        ['close queues', () => queues.close(), 5000],
        ['close redis', () => redis.quit(), 5000],
        ['close bucket client', async () => objects.destroy(), 1000],
      ],
      logger,
    ).then((clean) => process.exit(clean ? 0 : 1));
  });
}
