/** @module Event deps for the event tests: the file's Redis and prefix, presigned links faked, no logs. */
import { randomUUID } from 'node:crypto';
import { BatchStore, Queues } from '@pixelmill/core';
import { createLogger } from '@pixelmill/logger';
import type { Redis } from 'ioredis';
import type { EventDeps } from '../events/event-deps.js';

/** `sig` is fresh per link, as real presigned URLs are (a resent event carries new links). */
export function testEventDeps(redis: Redis, prefix: string): EventDeps {
  return {
    redis,
    store: new BatchStore(redis, prefix),
    queues: new Queues(redis, prefix),
    objects: { presignGet: async (key: string) => `https://bucket.example/${key}?sig=${randomUUID()}` },
    logger: createLogger({ name: 'test', level: 'silent' }),
    options: { presignTtlS: 60 },
  };
}
