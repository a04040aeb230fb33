import type { BatchSpecCache, BatchStore, FeedStore, Queues } from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';
import type { ModelRegistry } from '@pixelmill/providers';
import type { Limiter } from '@pixelmill/ratelimit';
import type { ObjectStore } from '@pixelmill/storage';
import type { Redis } from 'ioredis';
import type { QaDeps } from './generate/qa/inspect.js';
import type { Spool } from './generate/spool.js';
import type { UploadGate } from './generate/upload-gate.js';

/** What the processors need; main.ts builds it from the environment, tests build it by hand. */
export interface WorkerDeps {
  redis: Redis;
  /**
   * The webhook delivery path's connection for its own store reads and writes (not BullMQ's),
   * auto-pipelined; `redis` when absent.
   */
  deliveryRedis?: Redis;
  store: BatchStore;
  /** The feeder's records (feed/feed-loop.ts) and the batch specs it reads. */
  feeds: FeedStore;
  specs: BatchSpecCache;
  queues: Queues;
  registry: ModelRegistry;
  objects: ObjectStore;
  limiter: Limiter;
  logger: Logger;
  /** Generated images not yet in the bucket (crash and outage recovery without regenerating). */
  spool: Spool;
  /** Holds new generations back while uploads lag (S3 outage). */
  uploads: UploadGate;
  /** Output QA: thresholds, the batch near-duplicate index, and the flag counter (generate/qa). */
  qa: QaDeps;
  options: {
    concurrency: number;
    itemAttempts: number;
    /** PIXELMILL_FEED_HIGH_WATER: jobs each model's queue holds waiting before the feeder stops. */
    feedHighWater: number;
    /** WORKER_ITEM_DEADLINE_MS: an item still not done this long after acceptance fails with `timeout`. */
    itemDeadlineMs: number;
    /** Per-model circuit breaker: consecutive 5xx/timeouts that open it, and how long it stays open. */
    circuit: { failures: number; openMs: number };
    allowPrivateUrls: boolean;
    webhookScheduleMs: number[];
    webhookTimeoutMs: number;
    /** Delivery slots of this process one target (endpoint or batch webhook) may hold at once. */
    webhookTargetConcurrency: number;
    presignTtlS: number;
    /** How long one upload retries before the item spends an attempt (its bytes stay spooled). */
    uploadRetryMs: number;
    /** Identifies this process in limiter and item leases. */
    workerId: string;
    /** WORKER_ITEM_LEASE_MS: an item stays this worker's this long without a renewal (item-lease.ts). */
    itemLeaseMs: number;
    /** Polls of provider batch jobs (economy lane): first wait, doubling up to the max. */
    economy?: { pollMinMs: number; pollMaxMs: number; autoMarginMs?: number; autoCallMs?: number };
  };
}
