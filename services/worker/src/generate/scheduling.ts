/**
 * Scheduling around one provider call, composed of small policies: the model's circuit
 * (circuit-policy.ts), capacity and turn-taking (capacity.ts), the keys in rotation
 * (key-rotation.ts) and what a blocked job does (fallback.ts). The processor asks; these decide.
 * @module
 */
import { type BatchStore, createFairScheduler, type GenerateJob, type Item } from '@pixelmill/core';
import type { ModelSpec } from '@pixelmill/providers';
import type { Job, Queue } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { type Acquired, type AcquireOpts, type Blocked, createCapacity } from './capacity.js';
import { createCircuitPolicy } from './circuit-policy.js';
import { createFallback } from './fallback.js';
import { createKeyRotation } from './key-rotation.js';
import { imagesPerCall, type KeyResource } from './resources.js';

export type { Acquired, Blocked } from './capacity.js';
export { countsAgainstCircuit } from './circuit-policy.js';

/** A job waits this long, holding itself, for a key's trial call to answer ... */
const TRIAL_WAIT_MS = 2_000;
/** ... then goes back to the queue for this long. */
const TRIAL_POLL_MS = 100;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export function createScheduling(deps: WorkerDeps) {
  const circuit = createCircuitPolicy(deps);
  const fair = createFairScheduler(deps.redis);
  const keys = createKeyRotation(deps);
  const capacity = createCapacity(deps, circuit);
  const fallback = createFallback(deps, { circuit, keys, fair });

  return {
    breaker: circuit.breaker,
    fair,
    keys,
    imagesPerCall,
    record: circuit.record,
    ...fallback,
    acquire: capacity.acquire,
    yieldTurn: capacity.yieldTurn,
    pause: capacity.pause,
    releaseEarly: capacity.releaseEarly,
    release: capacity.release,
    withdraw: capacity.withdraw,
    trackRuns: capacity.trackRuns,

    /** The model a job runs on: the fallback it was moved to, else the item's own. */
    modelOf(data: GenerateJob, item: Pick<Item, 'model'>): ModelSpec | undefined {
      return deps.registry.resolve(data.model ?? item.model);
    },

    /**
     * A slot on one of the model's keys still in rotation; `revoked` when none is left, `trial`
     * while the only keys left have their trial call out (key-rotation.ts).
     */
    async acquireKey(
      queue: Queue,
      model: ModelSpec,
      resources: readonly KeyResource[],
      opts: AcquireOpts,
    ): Promise<Acquired | Blocked> {
      const begun = Date.now();
      let rotation = await keys.inRotation(model, resources);
      // Keys no worker has proven yet are checked at no cost first (the model listing), so that a
      // good one runs at full rate at once and a refused one never gets an image call.
      if (await keys.check(model, rotation.keys)) rotation = await keys.inRotation(model, resources);
      let left = rotation.keys.filter((r) => !keys.onTrial(model, [r]).length);
      // Every key left has its trial call out: wait here for one to answer (it usually takes one
      // provider round trip) rather than hand the job back.
      while (left.length === 0 && rotation.keys.length > 0 && Date.now() - begun < TRIAL_WAIT_MS) {
        await Promise.race([keys.trialEnded(model, rotation.keys), sleep(TRIAL_WAIT_MS)]);
        rotation = await keys.inRotation(model, resources);
        left = rotation.keys.filter((r) => !keys.onTrial(model, [r]).length);
      }
      if (rotation.keys.length === 0 && rotation.nextBackAt !== null)
        return { ok: false, reason: 'revoked', retryInMs: Math.max(0, rotation.nextBackAt - Date.now()) };
      if (left.length === 0) return { ok: false, reason: 'trial', retryInMs: TRIAL_POLL_MS };
      const grant = await capacity.acquire(
        queue,
        model,
        left.map((r) => r.id),
        opts,
      );
      if (!grant.ok) return grant;
      const resource = left.find((r) => r.id === grant.resourceId);
      if (resource === undefined || keys.claim(model, resource)) return grant;
      // Another job of this process took the key's trial meanwhile: this grant goes back unsent.
      await capacity.withdraw(grant, opts.images);
      return { ok: false, reason: 'trial', retryInMs: TRIAL_POLL_MS };
    },

    /** The job got its first provider slot: the queue's fair-share clock moves to its tag. */
    async started(queue: Queue, job: Job): Promise<void> {
      capacity.started(queue, job, (q, id) => fair.started(q, id));
    },
  };
}

/** The same deps, except that every output recorded through them names the model that produced it. */
export function stampingModel<D extends { store: Pick<BatchStore, 'recordOutput'> }>(
  deps: D,
  modelId: string,
): Omit<D, 'store'> & { store: Pick<BatchStore, 'recordOutput'> } {
  return {
    ...deps,
    store: {
      recordOutput: (itemId, output) => deps.store.recordOutput(itemId, { ...output, model: modelId }),
    },
  };
}
