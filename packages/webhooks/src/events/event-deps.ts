/** @module What event emission needs: satisfied by both the API's and the worker's deps. */
import type { BatchStore, Queues } from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';
import type { Redis } from 'ioredis';

export interface EventDeps {
  redis: Redis;
  store: BatchStore;
  queues: Queues;
  /** Presigns output and manifest links: payloads carry links, never image bytes. */
  objects: { presignGet(key: string, expiresInS?: number): Promise<string> };
  logger: Logger;
  options: { presignTtlS: number };
}

/** Bodies stay around Standard Webhooks' ~20 kB guidance: grouped item events are split to fit. */
export const MAX_EVENT_BODY_BYTES = 20_000;
