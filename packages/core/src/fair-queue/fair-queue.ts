/**
 * @module Fair shares between tenants on one BullMQ queue, without BullMQ Pro's groups: start-time
 * fair queuing (Goyal et al., SFQ) on BullMQ job priorities.
 *
 * A flow is a tenant's jobs of one priority class. Each new job gets the start tag
 * S = max(V, F[flow]) and advances F[flow] by its cost; its BullMQ priority is S + 1, so workers
 * take jobs in start-tag order. V, the virtual time, moves to the tag of each job that starts. A
 * flow that arrives late starts at the current V and interleaves with a long backlog at once, in
 * proportion to the inverse of its cost: a 10-item batch waits for about ten rounds of the active
 * flows, not for a 100,000-item batch ahead of it.
 *
 * Priority classes are weights, not strict order: one provider call costs 1 (high), 2 (normal)
 * or 4 (low), so within a tenant (and across tenants) a high flow gets twice the share of a
 * normal one. All tagging happens in Lua, atomically per chunk.
 *
 * BullMQ priorities end at 2^21 - 1. Tags are kept small by a rebase (see fairStart-8.lua) when V
 * reaches `rebaseAt` (2^20: about 500,000 normal items started). A rebase is one Lua pass over the
 * queue's jobs and blocks Redis meanwhile: 0.6 s for 100,000 waiting jobs on the 2-core development
 * machine. A backlog deeper than the remaining range is capped at the last priority,
 * where its jobs keep FIFO order (fairness degrades to BullMQ's plain order beyond ~1M units of
 * queued work, it never loses or starves a job).
 */
import { randomUUID } from 'node:crypto';
import { luaScripts, replyArray, replyNumber, runLuaScript } from '@pixelmill/redis-scripts';
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** fairTag-2.lua and fairStart-8.lua, with their includes, loaded once per process. */
const luaScript = luaScripts(new URL('./lua/', import.meta.url));

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonEmpty(name: string, value: string): string {
  if (value.length === 0) throw new RangeError(`${name} must not be empty`);
  return value;
}

export type PriorityClass = 'high' | 'normal' | 'low';

/** Virtual-time cost of one provider call in each class: a flow's share is inversely proportional. */
export const CLASS_COST: Readonly<Record<PriorityClass, number>> = { high: 1, normal: 2, low: 4 };

/** BullMQ's highest priority value (PRIORITY_LIMIT). */
export const MAX_BULLMQ_PRIORITY = 2 ** 21 - 1;

export interface FairSchedulerOptions {
  /** Clock in epoch ms (tagging leases); default the Redis server clock. */
  now?: () => number;
  /** Virtual time at which tags are shifted back toward 0; default 2^20. */
  rebaseAt?: number;
  /** Highest priority handed out; default BullMQ's 2^21 - 1 (tests lower it). */
  maxPriority?: number;
  /** A tagging lease outlives a crashed enqueuer by this long (rebases wait for it); default 60_000. */
  tagLeaseMs?: number;
}

export interface FairFlow {
  tenant: string;
  priority: PriorityClass;
}

export interface FairJob<T> {
  name: string;
  data: T;
  /** Its priority is replaced by the fair one. */
  opts?: JobsOptions;
  /** Provider calls the job will make (e.g. ceil(n / images per call)); default 1. */
  calls?: number;
}

export interface FairQueueState {
  virtualTime: number;
  rebases: number;
  /** Finish tag of each flow ("tenant|class") still ahead of the virtual time. */
  flows: Record<string, number>;
}

export interface FairScheduler {
  /** queue.addBulk with fair priorities for one flow; costs and tags are taken in one Lua call. */
  addBulk<T>(queue: Queue, flow: FairFlow, jobs: readonly FairJob<T>[]): Promise<Job<T>[]>;
  /** Call when a job really starts (it got its provider capacity): V moves to its tag. */
  started(queue: Queue, jobId: string): Promise<{ virtualTime: number; shift: number }>;
  state(queue: Queue): Promise<FairQueueState>;
}

export const flowName = (flow: FairFlow): string => `${nonEmpty('tenant', flow.tenant)}|${flow.priority}`;

/**
 * Outside BullMQ's own key space (`<prefix>:<queue>:<jobId>`), so no job id can collide, but under
 * the queue's prefix, so they share its hash tag (queues.ts queuePrefix) with the BullMQ keys
 * fairStart-8.lua touches.
 */
function stateKeys(queue: Queue): { state: string; tagging: string } {
  const base = `${queue.opts.prefix ?? 'bull'}:fq:${queue.name}`;
  return { state: base, tagging: `${base}:tagging` };
}

export function createFairScheduler(redis: Redis, opts: FairSchedulerOptions = {}): FairScheduler {
  const { now } = opts;
  const clockArg = now ? () => String(Math.floor(now())) : () => '';
  const maxPriority = positiveInt('maxPriority', opts.maxPriority ?? MAX_BULLMQ_PRIORITY);
  if (maxPriority > MAX_BULLMQ_PRIORITY) throw new RangeError(`maxPriority exceeds ${MAX_BULLMQ_PRIORITY}`);
  const rebaseAt = positiveInt('rebaseAt', opts.rebaseAt ?? 2 ** 20);
  const tagLeaseMs = positiveInt('tagLeaseMs', opts.tagLeaseMs ?? 60_000);

  return {
    async addBulk(queue, flow, jobs) {
      if (jobs.length === 0) return [];
      const classCost = CLASS_COST[flow.priority];
      if (classCost === undefined) throw new RangeError(`unknown priority class: ${String(flow.priority)}`);
      const costs = jobs.map((j) => positiveInt('calls', j.calls ?? 1) * classCost);
      const keys = stateKeys(queue);
      const leaseId = randomUUID();
      const priorities = replyArray(
        await runLuaScript(
          redis,
          luaScript('fairTag-2.lua'),
          [keys.state, keys.tagging],
          [clockArg(), leaseId, tagLeaseMs, flowName(flow), maxPriority, ...costs],
        ),
      ).map(replyNumber);
      try {
        return await queue.addBulk(
          jobs.map((j, i) => ({ name: j.name, data: j.data, opts: { ...j.opts, priority: priorities[i]! } })),
        );
      } finally {
        // A lost release only delays the next rebase until the lease expires.
        await redis.zrem(keys.tagging, leaseId).catch(() => 0);
      }
    },

    async started(queue, jobId) {
      const keys = stateKeys(queue);
      const q = queue.keys;
      const reply = replyArray(
        await runLuaScript(
          redis,
          luaScript('fairStart-8.lua'),
          [
            keys.state,
            keys.tagging,
            queue.toKey(nonEmpty('jobId', jobId)),
            q.prioritized!,
            q.delayed!,
            q.wait!,
            q.paused!,
            q.active!,
          ],
          [clockArg(), queue.toKey(''), rebaseAt],
        ),
      );
      return { virtualTime: replyNumber(reply[0]), shift: replyNumber(reply[1]) };
    },

    async state(queue) {
      const h = await redis.hgetall(stateKeys(queue).state);
      const flows: Record<string, number> = {};
      for (const [field, value] of Object.entries(h)) {
        if (field.startsWith('F:')) flows[field.slice(2)] = Number(value);
      }
      return { virtualTime: Number(h.V ?? 0), rebases: Number(h.rebases ?? 0), flows };
    },
  };
}
