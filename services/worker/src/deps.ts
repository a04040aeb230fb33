import type { BatchStore, Queues } from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';
import type { ModelRegistry } from '@pixelmill/providers';
import type { Limiter } from '@pixelmill/ratelimit';
import type { ObjectStore } from '@pixelmill/storage';
import type { Redis } from 'ioredis';

/** What the processors need; main.ts builds it from the environment, tests build it by hand. */
export interface WorkerDeps {
  redis: Redis;
  store: BatchStore;
  queues: Queues;
  registry: ModelRegistry;
  objects: ObjectStore;
  limiter: Limiter;
  logger: Logger;
  options: {
    concurrency: number;
    itemAttempts: number;
    allowPrivateUrls: boolean;
    webhookScheduleMs: number[];
    webhookTimeoutMs: number;
    presignTtlS: number;
    /** Identifies this process in limiter leases. */
    workerId: string;
  };
}
