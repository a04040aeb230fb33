import { hostname } from 'node:os';
import { ConfigError, loadEnv, loadPixelmillConfig } from '@pixelmill/config';
import { BatchStore, finishedWithin, Queues, shutdownInOrder } from '@pixelmill/core';
import { createLogger } from '@pixelmill/logger';
import { buildRegistry } from '@pixelmill/providers';
import { createLimiter } from '@pixelmill/ratelimit';
import { createS3Store } from '@pixelmill/storage';
import { deliverySchedule } from '@pixelmill/webhooks';
import { Redis } from 'ioredis';
import { configureLimits } from './generate/resources.js';
import { startWorkers } from './workers.js';

function fail(err: unknown): never {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
}

let env: ReturnType<typeof loadEnv>;
let config: ReturnType<typeof loadPixelmillConfig>;
try {
  env = loadEnv();
  config = loadPixelmillConfig(env.PIXELMILL_CONFIG);
} catch (err) {
  fail(err);
}

const logger = createLogger({ name: 'worker', level: env.LOG_LEVEL });
// BullMQ workers block on Redis: their connections must never give up on a command.
const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
const registry = buildRegistry({ ...(config ? { providers: config.providers } : {}), env: process.env });
const objects = createS3Store({
  region: env.S3_REGION,
  bucket: env.S3_BUCKET,
  forcePathStyle: env.S3_FORCE_PATH_STYLE,
  ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
  ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }
    : {}),
});
const queues = new Queues(redis, env.PIXELMILL_QUEUE_PREFIX);
const limiter = createLimiter(redis, { prefix: `${env.PIXELMILL_QUEUE_PREFIX}:rl` });
const deps = {
  redis,
  store: new BatchStore(redis, env.PIXELMILL_QUEUE_PREFIX),
  queues,
  registry,
  objects,
  limiter,
  logger,
  options: {
    concurrency: env.WORKER_CONCURRENCY,
    itemAttempts: env.WORKER_ITEM_ATTEMPTS,
    allowPrivateUrls: env.PIXELMILL_WEBHOOK_ALLOW_PRIVATE,
    webhookScheduleMs: env.PIXELMILL_WEBHOOK_SCHEDULE_MS ?? [...deliverySchedule],
    webhookTimeoutMs: env.PIXELMILL_WEBHOOK_TIMEOUT_MS,
    presignTtlS: env.PIXELMILL_PRESIGN_TTL_S,
    workerId: `${hostname()}:${process.pid}`,
  },
};

await configureLimits(limiter, registry);
const workers = startWorkers(deps, redis);
logger.info(
  { models: registry.list().map((m) => m.id), concurrency: env.WORKER_CONCURRENCY },
  'worker started',
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    shutdownInOrder(
      [
        // Stop taking jobs and let running ones finish; past the deadline they are handed back (their
        // locks lapse and another worker picks them up as stalled jobs).
        [
          'drain workers',
          async () => {
            const drained = await finishedWithin(
              Promise.all(workers.map((w) => w.close())),
              env.WORKER_SHUTDOWN_TIMEOUT_MS,
            );
            if (!drained) {
              logger.warn('running jobs did not finish in time; handing them back');
              await Promise.all(workers.map((w) => w.close(true)));
            }
          },
          env.WORKER_SHUTDOWN_TIMEOUT_MS + 5000,
        ],
        ['close queues', () => queues.close(), 5000],
        ['close redis', () => redis.quit(), 5000],
        ['close bucket client', async () => objects.destroy(), 1000],
      ],
      logger,
    ).then((clean) => process.exit(clean ? 0 : 1));
  });
}
