import type { BatchStore, FeedStore, Queues } from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';
import type { LookupAll } from '@pixelmill/net-guard';
import type { ModelRegistry } from '@pixelmill/providers';
import type { ObjectStore } from '@pixelmill/storage';
import type { Redis } from 'ioredis';
import type { TenantQuotas } from './batches/tenant-quota.js';
import type { ApiMetrics } from './metrics/api-metrics.js';

/** Everything the API's routes need, built by main.ts (or a test) and passed to createApp. */
export interface AppDeps {
  redis: Redis;
  store: BatchStore;
  /** The feeder's records: acceptance and retry feed a batch's first items themselves. */
  feeds: FeedStore;
  queues: Queues;
  registry: ModelRegistry;
  objects: ObjectStore;
  logger: Logger;
  apiKeys: { tenantId: string; key: string }[];
  /** PIXELMILL_ADMIN_KEY: the bearer key of /admin/queues; without it the dashboard is off. */
  adminKey?: string | undefined;
  /** Built by main.ts with process metrics; createApp makes a bare one when absent (tests). */
  metrics?: ApiMetrics | undefined;
  /** Per-tenant quotas of acceptance; main.ts always sets them (0 = unlimited), tests may leave them out. */
  quotas?: TenantQuotas | undefined;
  options: {
    maxItemsPerBatch: number;
    maxBodyBytes: number;
    presignTtlS: number;
    /** PIXELMILL_WEBHOOK_ALLOW_PRIVATE: the SSRF guard allows private addresses (webhooks, reference URLs). */
    allowPrivateWebhooks: boolean;
    /** The SSRF guard's resolver at submission; the system's when absent (tests inject one). */
    lookup?: LookupAll | undefined;
    /** Real failures an item may have (WORKER_ITEM_ATTEMPTS); written into each generation job. */
    itemAttempts: number;
    /** PIXELMILL_FEED_HIGH_WATER: items of a new or retried batch queued as jobs per model at once. */
    feedHighWater: number;
    /** PIXELMILL_ECONOMY_JOB_SIZE: items per provider batch job (default 25). */
    economyJobSize?: number;
  };
}
