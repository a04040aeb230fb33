import { z } from 'zod';
import { ConfigError } from './errors.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();
/** A per-tenant quota: 0 (or unset) means unlimited. */
const quota = z.coerce.number().int().min(0).default(0);

/** `tenant:key,tenant:key` (api.md "Authentication and tenants"). */
const apiKeys = z.string().transform((raw, ctx) => {
  const entries: { tenantId: string; key: string }[] = [];
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = part.indexOf(':');
    const tenantId = part.slice(0, at);
    const key = part.slice(at + 1);
    if (at <= 0 || key.length < 8 || !/^[A-Za-z0-9_-]+$/.test(tenantId)) {
      // Never echo the key itself: the message names the entry by position only.
      ctx.addIssue({
        code: 'custom',
        message: `entry ${entries.length + 1} must be tenant:key with a key of at least 8 characters`,
      });
      return z.NEVER;
    }
    entries.push({ tenantId, key });
  }
  return entries;
});

/** `host:port,host:port`: the seed nodes of a Redis Cluster (api.md "Configuration"). */
const clusterNodes = z.string().transform((raw, ctx) => {
  const nodes: { host: string; port: number }[] = [];
  for (const [i, part] of raw
    .split(',')
    .map((p) => p.trim())
    .entries()) {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(part);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1} must be host:port (e.g. 10.0.0.1:6379)` });
      return z.NEVER;
    }
    nodes.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
});

/** Comma-separated list of milliseconds, e.g. the webhook retry schedule compressed for tests. */
const msList = z.string().transform((raw, ctx) => {
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v) || v < 0)) {
    ctx.addIssue({ code: 'custom', message: 'expected comma-separated non-negative milliseconds' });
    return z.NEVER;
  }
  return values;
});

/** The one environment of every pixelmill process (api.md "Configuration"), parsed once at start-up. */
export const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /**
   * Seed nodes of a Redis Cluster; when set, REDIS_URL only gives the user, password and TLS
   * (rediss:) every node is reached with.
   */
  REDIS_CLUSTER_NODES: clusterNodes.optional(),
  PIXELMILL_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/)
    .default('pixelmill'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  PIXELMILL_API_KEYS: apiKeys.optional(),
  PIXELMILL_ADMIN_KEY: z.string().min(16).optional(),
  PIXELMILL_CONFIG: z.string().optional(),
  S3_ENDPOINT: z.url().optional(),
  /** Where clients and browsers reach the bucket: presigned URLs are signed for it (default S3_ENDPOINT). */
  S3_PUBLIC_ENDPOINT: z.url().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().min(3).default('pixelmill'),
  S3_FORCE_PATH_STYLE: bool.default(false),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.url().optional(),
  GEMINI_API_KEY: z.string().optional(),
  GEMINI_BASE_URL: z.url().optional(),
  OPENROUTER_API_KEY: z.string().optional(),
  OPENROUTER_BASE_URL: z.url().optional(),
  WORKER_CONCURRENCY: positiveInt.max(1000).default(32),
  /** Real failures an item may have before it fails; waiting for rate limits never counts. */
  WORKER_ITEM_ATTEMPTS: positiveInt.max(50).default(5),
  /**
   * Jobs a model's queue holds waiting (not yet running) before the feeder stops queuing more of the
   * accepted items (feeder.ts); items beyond it wait in the batch store, not as jobs.
   */
  PIXELMILL_FEED_HIGH_WATER: positiveInt.max(100_000).default(500),
  /**
   * Longest an item may take from its batch's acceptance, waiting for capacity included; past it the
   * item fails with `timeout` when a worker next picks it up.
   */
  WORKER_ITEM_DEADLINE_MS: positiveInt.default(24 * 3600 * 1000),
  /** Consecutive 5xx/timeouts of a model that open its circuit breaker; open this long, then probe. */
  WORKER_CIRCUIT_FAILURES: positiveInt.default(5),
  WORKER_CIRCUIT_OPEN_MS: positiveInt.default(30_000),
  /**
   * Length of the limiter's window: rpm and ipm are counted per this many ms. Only tests and
   * benchmarks against a compressed simulator shorten it.
   */
  PIXELMILL_RATE_WINDOW_MS: positiveInt.default(60_000),
  WORKER_SHUTDOWN_TIMEOUT_MS: positiveInt.default(30_000),
  /**
   * A job's lock lives this long without renewal; a crashed worker's jobs are picked up again within
   * about lockDuration + stalledInterval (tests use a few seconds; docs/reliability.md).
   */
  WORKER_LOCK_DURATION_MS: positiveInt.default(30_000),
  WORKER_STALLED_INTERVAL_MS: positiveInt.default(15_000),
  /**
   * How long an item stays its worker's without a renewal (renewed every quarter of it). A worker
   * silent for longer than its lock but shorter than this (a long pause, a starved CPU) gets its jobs
   * taken by BullMQ, but no other worker pays for the same images meanwhile. Unset: twice the lock.
   */
  WORKER_ITEM_LEASE_MS: positiveInt.optional(),
  /**
   * An outbox entry a relay read but did not finish for this long (its worker died) is taken over by
   * another worker's relay, so at worst an event waits this long after a crash.
   */
  WORKER_OUTBOX_CLAIM_IDLE_MS: positiveInt.default(30_000),
  /** Provider bytes are written here before upload, so a crash or an S3 outage never regenerates them. */
  WORKER_SPOOL_DIR: z.string().optional(),
  /** Generation pauses while this many bytes are generated but not yet in the bucket. */
  WORKER_MAX_PENDING_UPLOAD_BYTES: positiveInt.default(256 * 1024 * 1024),
  /** How long one upload keeps retrying before the item spends an attempt (the bytes stay spooled). */
  WORKER_UPLOAD_RETRY_MS: positiveInt.default(10 * 60_000),
  /**
   * Output QA thresholds (api.md "Output QA"); unset takes the worker's defaults
   * (services/worker/src/generate/qa/thresholds.ts).
   */
  QA_BLANK_MIN_STDEV: z.coerce.number().min(0).max(255).optional(),
  QA_DUPLICATE_MAX_DISTANCE: z.coerce.number().int().min(0).max(11).optional(),
  QA_ASPECT_TOLERANCE: z.coerce.number().min(0).max(10).optional(),
  QA_MIN_RESOLUTION: z.coerce.number().min(0).max(1).optional(),
  /** Port of the worker's /metrics server; 0 picks a free port; unset means no server. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** How long a presigned output URL stays valid. */
  PIXELMILL_PRESIGN_TTL_S: positiveInt.max(604_800).default(3600),
  PIXELMILL_MAX_ITEMS_PER_BATCH: positiveInt.default(100_000),
  /**
   * Items per provider batch job of the economy lane: small, so one job's results file (≈ 8 MB of
   * base64 per 2K image) stays well under a few hundred MB (providers.md §3 pitfall).
   */
  PIXELMILL_ECONOMY_JOB_SIZE: positiveInt.max(50_000).default(25),
  /** First wait between polls of a provider batch job; doubles per poll up to the max. */
  WORKER_ECONOMY_POLL_MIN_MS: positiveInt.default(30_000),
  WORKER_ECONOMY_POLL_MAX_MS: positiveInt.default(10 * 60_000),
  /** Mode auto: added to the realtime makespan estimate (the last calls in flight and their uploads). */
  WORKER_AUTO_MARGIN_MS: positiveInt.default(120_000),
  /** Mode auto: assumed duration of one realtime call with its upload (the concurrency bound of the estimate). */
  WORKER_AUTO_CALL_MS: positiveInt.default(30_000),
  PIXELMILL_MAX_BODY_BYTES: positiveInt.default(64 * 1024 * 1024),
  /**
   * The API's limit on receiving one whole request (Node's server.requestTimeout; 0 = none): a large
   * streamed upload must arrive, and be accepted, within it.
   */
  PIXELMILL_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).default(300_000),
  /**
   * Default quotas of every tenant, checked when a batch is accepted (0 = unlimited); the tenants
   * section of PIXELMILL_CONFIG overrides them per tenant.
   */
  PIXELMILL_TENANT_MAX_OPEN_BATCHES: quota,
  PIXELMILL_TENANT_MAX_QUEUED_ITEMS: quota,
  PIXELMILL_TENANT_ITEMS_PER_MINUTE: quota,
  PIXELMILL_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  PIXELMILL_WEBHOOK_SCHEDULE_MS: msList.optional(),
  PIXELMILL_WEBHOOK_TIMEOUT_MS: positiveInt.default(15_000),
  /** Of a worker's 50 delivery slots, how many one endpoint (or batch webhook) may hold at once. */
  PIXELMILL_WEBHOOK_ENDPOINT_CONCURRENCY: positiveInt.max(50).default(10),
});
export type Env = z.infer<typeof envSchema>;

/** Parses the environment or throws a ConfigError naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  // Empty strings mean "unset" (docker-compose passes `VAR=` for unset variables).
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      message: issue.message,
    })),
  );
}
