/**
 * fairStart-8.lua rewrites BullMQ's internal priority encoding when it rebases start tags: the job
 * hash's `priority` field and the prioritized zset's score, priority * 2^32 + an insertion counter
 * (BullMQ's getPriorityScore.lua), under the queue keys fair-queue.ts passes in. These tests pin that
 * encoding to the installed BullMQ: on an upgrade, re-read BullMQ's scripts, check fairStart-8.lua
 * against them, then move the pinned version.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { PRIORITY_LIMIT, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestRedis } from '../test-support/index.js';
import { MAX_BULLMQ_PRIORITY } from './fair-queue.js';

const PINNED_BULLMQ = '6.7.0';
const COUNTER = 2 ** 32;

const env = useTestRedis('core-bullmq-priority');
const { prefix } = env;
let queue: Queue;

beforeAll(() => {
  queue = new Queue(`q-${randomUUID().slice(0, 8)}`, {
    connection: { host: env.redis.options.host, port: env.redis.options.port },
    prefix,
  });
});

afterAll(async () => {
  await queue.close();
});

describe("BullMQ's priority encoding, as fairStart-8.lua rewrites it", () => {
  it(`is checked against BullMQ ${PINNED_BULLMQ}`, () => {
    const installed = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
    expect(installed, 'BullMQ changed: re-check fairStart-8.lua, then update PINNED_BULLMQ').toBe(
      PINNED_BULLMQ,
    );
    expect(PRIORITY_LIMIT).toBe(MAX_BULLMQ_PRIORITY);
  });

  it('keeps the priority in the job hash and priority * 2^32 + counter in the prioritized zset', async () => {
    const priorities = [7, 1, MAX_BULLMQ_PRIORITY, 7];
    const jobs = [];
    for (const priority of priorities) jobs.push(await queue.add('j', {}, { priority }));
    for (const key of ['prioritized', 'delayed', 'wait', 'paused', 'active'] as const) {
      expect(queue.keys[key], key).toBe(`${prefix}:${queue.name}:${key}`);
    }
    const scored = await env.redis.zrange(queue.keys.prioritized!, '0', '-1', 'WITHSCORES');
    const scores = new Map<string, number>();
    for (let i = 0; i < scored.length; i += 2) scores.set(scored[i]!, Number(scored[i + 1]));
    const counters: number[] = [];
    for (const [i, job] of jobs.entries()) {
      const score = scores.get(job.id!)!;
      expect(Math.floor(score / COUNTER)).toBe(priorities[i]);
      counters.push(score % COUNTER);
      expect(await env.redis.hget(queue.toKey(job.id!), 'priority')).toBe(String(priorities[i]));
    }
    // The low 32 bits count insertions: equal priorities keep their order.
    expect([...counters].sort((a, b) => a - b)).toEqual(counters);
  });
});
