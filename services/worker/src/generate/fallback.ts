/**
 * @module What a job does when its model cannot serve it now: move to the first usable model among
 * the item's own and its fallbacks, fail (every key out of quota for good, or the deadline passed),
 * or wait without spending an attempt, never past the item's deadline.
 */
import {
  type BatchSpec,
  type FairScheduler,
  type GenerateJob,
  type Item,
  type ItemError,
  jobFor,
  jobs,
} from '@pixelmill/core';
import type { ModelSpec } from '@pixelmill/providers';
import { ResourceNotConfiguredError } from '@pixelmill/ratelimit';
import type { Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import type { Blocked } from './capacity.js';
import type { CircuitPolicy } from './circuit-policy.js';
import type { KeyRotation } from './key-rotation.js';
import { type KeyResource, keyResources } from './resources.js';

/** Longest a queue pauses for capacity before looking again (parked keys may be unparked). */
const MAX_WAIT_MS = 60_000;

export type BlockedAction =
  /** Wait this long without spending an attempt (queue.rateLimit + RateLimitError). */
  | { kind: 'wait'; ms: number }
  /** Move the job to this model's queue. */
  | { kind: 'reroute'; to: ModelSpec }
  | { kind: 'fail'; error: ItemError };

export type ItemView = Pick<Item, 'model' | 'size' | 'aspect_ratio' | 'reference_images' | 'n'>;

export function createFallback(
  deps: WorkerDeps,
  parts: { circuit: CircuitPolicy; keys: KeyRotation; fair: FairScheduler },
) {
  const { circuit, keys, fair } = parts;
  const deadlineOf = (spec: BatchSpec): number => Date.parse(spec.created_at) + deps.options.itemDeadlineMs;

  async function allKeysParked(resources: KeyResource[]): Promise<'no' | 'for-now' | 'indefinitely'> {
    if (resources.length === 0) return 'indefinitely';
    let indefinite = true;
    for (const r of resources) {
      let parked: number | 'indefinite' | null;
      try {
        parked = (await deps.limiter.state(r.id)).parkedUntil;
      } catch (err) {
        if (err instanceof ResourceNotConfiguredError) return 'no';
        throw err;
      }
      if (parked === null) return 'no';
      if (parked !== 'indefinite') indefinite = false;
    }
    return indefinite ? 'indefinitely' : 'for-now';
  }

  /** The keys of the model still in rotation (not revoked). */
  async function rotation(model: ModelSpec): Promise<KeyResource[]> {
    return (await keys.inRotation(model, keyResources(deps.registry, model))).keys;
  }

  /** The model can take this item's parameters and is not known to be down, out of quota or keyless. */
  async function usable(model: ModelSpec, item: ItemView): Promise<boolean> {
    if (!deps.registry.available(model)) return false;
    if (!model.sizes.includes(item.size)) return false;
    if (item.aspect_ratio !== null && !model.aspectRatios.includes(item.aspect_ratio)) return false;
    if (item.reference_images.length > model.maxReferenceImages) return false;
    if ((await circuit.breaker.circuitState(model.id)) === 'open') return false;
    const inRotation = await rotation(model);
    return inRotation.length > 0 && (await allKeysParked(inRotation)) === 'no';
  }

  function timeoutError(): ItemError {
    return {
      code: 'timeout',
      message: `Not done within the item deadline (${deps.options.itemDeadlineMs} ms after acceptance)`,
      retryable: false,
    };
  }

  function keysRevokedError(model: ModelSpec): ItemError {
    return {
      code: 'config_error',
      message: `Every API key of ${model.provider} was refused as invalid or revoked, and none came back within the item deadline (${deps.options.itemDeadlineMs} ms after acceptance)`,
      retryable: false,
    };
  }

  return {
    /** `timeout` once the item has existed longer than WORKER_ITEM_DEADLINE_MS. */
    deadlineError(spec: BatchSpec, now = Date.now()): ItemError | null {
      return now < deadlineOf(spec) ? null : timeoutError();
    },

    /** As deadlineError, but `config_error` when it was every key's refusal that held the item. */
    async lateError(spec: BatchSpec, model: ModelSpec, now = Date.now()): Promise<ItemError | null> {
      if (now < deadlineOf(spec)) return null;
      const all = keyResources(deps.registry, model);
      const left = all.length === 0 ? all : await rotation(model);
      return all.length > 0 && left.length === 0 ? keysRevokedError(model) : timeoutError();
    },

    /**
     * What to do when no capacity was granted. An open circuit, a model whose keys are all parked or
     * all refused sends the item to the first usable model among the item's own and its fallbacks;
     * with none, keys parked for good fail the item (`quota_exhausted`), anything else waits, never
     * past the item's deadline (then `timeout`, or `config_error` when every key was refused).
     */
    async whenBlocked(
      model: ModelSpec,
      item: ItemView,
      spec: BatchSpec,
      blocked: Blocked,
      now = Date.now(),
    ): Promise<BlockedAction> {
      const parked = blocked.reason === 'parked' ? await allKeysParked(await rotation(model)) : 'no';
      if (blocked.reason === 'circuit' || blocked.reason === 'revoked' || parked !== 'no') {
        const home = deps.registry.resolve(item.model);
        const candidates = [home?.id, ...(home?.fallback ?? [])].filter(
          (id): id is string => id !== undefined && id !== model.id,
        );
        for (const id of candidates) {
          const to = deps.registry.resolve(id);
          if (to !== undefined && (await usable(to, item))) return { kind: 'reroute', to };
        }
      }
      if (parked === 'indefinitely') {
        return {
          kind: 'fail',
          error: {
            code: 'quota_exhausted',
            message: `Every API key of ${model.provider} for ${model.id} is out of quota, and no fallback model can take the item`,
            retryable: false,
          },
        };
      }
      const left = deadlineOf(spec) - now;
      if (left <= 0)
        return {
          kind: 'fail',
          error: blocked.reason === 'revoked' ? keysRevokedError(model) : timeoutError(),
        };
      return { kind: 'wait', ms: Math.max(10, Math.min(blocked.retryInMs, MAX_WAIT_MS, left)) };
    },

    /**
     * Puts the job on another model's queue, tagged for fair share in that queue like a new job of
     * the same tenant and priority. The job id stays the item id, so a repeat (crash between this and
     * the end of the current job) adds nothing.
     */
    async reroute(job: Job<GenerateJob>, data: GenerateJob, spec: BatchSpec, item: ItemView, to: ModelSpec) {
      const queue = deps.queues.generate(to.id);
      const home = deps.registry.resolve(item.model);
      const { model: _current, ...base } = data;
      await fair.addBulk(queue, { tenant: data.tenant_id, priority: spec.priority }, [
        jobFor(jobs.generate, home?.id === to.id ? base : { ...base, model: to.id }, {
          options: {
            jobId: job.id ?? data.item_id,
            // The item's attempts are capped across models: the new job gets what is left.
            attempts: Math.max(1, (job.opts.attempts ?? deps.options.itemAttempts) - job.attemptsMade),
          },
        }),
      ]);
    },
  };
}
