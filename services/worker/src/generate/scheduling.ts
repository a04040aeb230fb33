/**
 * Scheduling policy around one provider call: the model's circuit breaker, the item's deadline, the
 * fair-share clock, and what a job does when its model cannot serve it now (wait without spending
 * an attempt, move to a fallback model, or fail). The processor asks; this module decides.
 * @module
 */
import {
  type BatchSpec,
  type BatchStore,
  type GenerateJob,
  generateJobOptions,
  type Item,
  type ItemError,
  isProviderError,
  queueNames,
} from '@pixelmill/core';
import type { ModelSpec } from '@pixelmill/providers';
import {
  type CircuitBreaker,
  createCircuitBreaker,
  createFairScheduler,
  type FairScheduler,
  type PickResult,
  ResourceNotConfiguredError,
  schedulingPrefixes,
} from '@pixelmill/ratelimit';
import type { Job, Queue } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { CandidateGate } from './candidate-gate.js';
import { imagesPerCall, keyResources } from './resources.js';

/** Longest a queue pauses for capacity before looking again (parked keys may be unparked). */
const MAX_WAIT_MS = 60_000;
/** A half-open probe that never reports back (crashed worker) frees the probe turn after this. */
const PROBE_LEASE_MS = 60_000;
/** While another worker's probe is out, look again this often. */
const PROBE_POLL_MS = 500;
/** Waits for capacity up to this long are waited out holding the job (see acquire). */
const LOCAL_WAIT_MS = 2_000;
/** ... and at most this long in all, per acquire. */
const LOCAL_WAIT_BUDGET_MS = 5_000;
const LOCALLY_WAITED: readonly string[] = ['rpm', 'ipm', 'concurrency', 'cooldown'];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A limiter denial, or the model's open circuit. */
export type Blocked =
  | Extract<PickResult, { ok: false }>
  | { ok: false; reason: 'circuit'; retryInMs: number; resourceId?: undefined };

export type Acquired = Extract<PickResult, { ok: true }> & { probe: boolean };

export type BlockedAction =
  /** Wait this long without spending an attempt (queue.rateLimit + RateLimitError). */
  | { kind: 'wait'; ms: number }
  /** Move the job to this model's queue. */
  | { kind: 'reroute'; to: ModelSpec }
  | { kind: 'fail'; error: ItemError };

type ItemView = Pick<Item, 'model' | 'size' | 'aspect_ratio' | 'reference_images' | 'n'>;

/** 5xx, network errors and timeouts say the model is unwell; a 4xx, a 429 or a block say it answered. */
export function countsAgainstCircuit(err: unknown): boolean {
  if (!isProviderError(err)) return false;
  if (err.code === 'timeout') return true;
  return err.code === 'provider_error' && err.retryable && (err.status === undefined || err.status >= 500);
}

/** Errors of our own making (inputs, bucket, bugs), which say nothing about the model's health. */
const OWN_CODES: readonly string[] = [
  'reference_image_error',
  'storage_error',
  'storage_rejected',
  'internal_error',
];

/** The model answered (a 4xx, a 429, a block): it is up, whatever it said. */
function answeredByModel(err: unknown): boolean {
  return (
    isProviderError(err) &&
    err.status !== undefined &&
    !OWN_CODES.includes(err.code) &&
    !countsAgainstCircuit(err)
  );
}

export function createScheduling(deps: WorkerDeps) {
  const prefixes = schedulingPrefixes(deps.queues.prefix);
  const breaker: CircuitBreaker = createCircuitBreaker(deps.redis, {
    prefix: prefixes.circuit,
    failureThreshold: deps.options.circuit.failures,
    openMs: deps.options.circuit.openMs,
    probeLeaseMs: PROBE_LEASE_MS,
  });
  const fair: FairScheduler = createFairScheduler(deps.redis);
  const candidates = new CandidateGate();
  /** Generation queues by name (the gate needs the queue before the job's item is read). */
  const queues = new Map(
    deps.registry.list().map((m) => [queueNames.generate(m.id), deps.queues.generate(m.id)] as const),
  );
  /** Per queue: the end of the last acquire of this process (acquires run one after another). */
  const asking = new Map<string, Promise<void>>();
  /** Leases already given back (a call's slot returns as soon as the provider answered). */
  const released = new Set<string>();

  /** No capacity until ms from now: the queue stops handing out jobs for that long. */
  async function pause(queue: Queue, ms: number): Promise<void> {
    candidates.paused(queue.name, ms);
    await queue.rateLimit(ms);
  }

  async function askLimiter(
    queue: Queue,
    model: ModelSpec,
    resourceIds: string[],
    opts: { images: number; leaseMs: number; holder: string },
  ): Promise<Acquired | Blocked> {
    const begun = Date.now();
    for (;;) {
      const gate = await breaker.allow(model.id);
      if (!gate.allowed) {
        // Half-open: another worker's probe is out and usually answers long before its lease ends.
        const retryInMs =
          gate.state === 'half-open' ? Math.min(gate.retryInMs, PROBE_POLL_MS) : gate.retryInMs;
        return { ok: false, reason: 'circuit', retryInMs };
      }
      const probe = gate.state === 'half-open';
      const grant = await deps.limiter.pickAndAcquire(resourceIds, opts);
      if (grant.ok) return { ...grant, probe };
      if (probe) await breaker.abandonProbe(model.id);
      const shortWait =
        LOCALLY_WAITED.includes(grant.reason) &&
        grant.retryInMs <= LOCAL_WAIT_MS &&
        Date.now() - begun + grant.retryInMs <= LOCAL_WAIT_BUDGET_MS;
      if (!shortWait) return grant;
      // While this process still lacks candidates the queue keeps handing out jobs (they line up
      // behind this one); once it has enough, the queue pauses until the next slot.
      if (candidates.full(queue.name)) await pause(queue, grant.retryInMs);
      else candidates.noCapacityFor(queue.name, grant.retryInMs);
      await sleep(grant.retryInMs);
    }
  }

  const deadlineOf = (spec: BatchSpec): number => Date.parse(spec.created_at) + deps.options.itemDeadlineMs;

  async function allKeysParked(model: ModelSpec): Promise<'no' | 'for-now' | 'indefinitely'> {
    const resources = keyResources(deps.registry, model);
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

  /** The model can take this item's parameters and is not known to be down or out of quota. */
  async function usable(model: ModelSpec, item: ItemView): Promise<boolean> {
    if (!deps.registry.available(model)) return false;
    if (!model.sizes.includes(item.size)) return false;
    if (item.aspect_ratio !== null && !model.aspectRatios.includes(item.aspect_ratio)) return false;
    if (item.reference_images.length > model.maxReferenceImages) return false;
    if ((await breaker.circuitState(model.id)) === 'open') return false;
    return (await allKeysParked(model)) === 'no';
  }

  return {
    breaker,
    fair,

    /** The model a job runs on: the fallback it was moved to, else the item's own. */
    modelOf(data: GenerateJob, item: Pick<Item, 'model'>): ModelSpec | undefined {
      return deps.registry.resolve(data.model ?? item.model);
    },

    imagesPerCall,

    /** `timeout` once the item has existed longer than WORKER_ITEM_DEADLINE_MS. */
    deadlineError(spec: BatchSpec, now = Date.now()): ItemError | null {
      if (now < deadlineOf(spec)) return null;
      return {
        code: 'timeout',
        message: `Not done within the item deadline (${deps.options.itemDeadlineMs} ms after acceptance)`,
        retryable: false,
      };
    },

    /**
     * The circuit breaker, then the shared limiter's key rotation. A probe not sent is given back.
     * A short wait for the next slot (the window's spacing, a lease ending) is waited out here,
     * holding the job, with the queue paused meanwhile: handing the job back and fetching it again
     * would cost more than the wait. Longer waits are returned to the caller.
     */
    async acquire(
      queue: Queue,
      model: ModelSpec,
      resourceIds: string[],
      opts: { images: number; leaseMs: number; holder: string },
    ): Promise<Acquired | Blocked> {
      // One job of this process asks the limiter for a queue at a time, in pickup order: the others
      // would only be told the same wait, and would all wake at once for one slot.
      const turn = asking.get(queue.name) ?? Promise.resolve();
      let done!: () => void;
      const mine = new Promise<void>((resolve) => {
        done = resolve;
      });
      asking.set(
        queue.name,
        turn.then(() => mine),
      );
      await turn;
      try {
        return await askLimiter(queue, model, resourceIds, opts);
      } finally {
        done();
      }
    },

    /**
     * What to do when no capacity was granted. An open circuit or a model whose keys are all parked
     * sends the item to the first usable model among the item's own and its fallbacks; with none,
     * keys parked for good fail the item (`quota_exhausted`), anything else waits, never past the
     * item's deadline.
     */
    async whenBlocked(
      model: ModelSpec,
      item: ItemView,
      spec: BatchSpec,
      blocked: Blocked,
      now = Date.now(),
    ): Promise<BlockedAction> {
      const parked = blocked.reason === 'parked' ? await allKeysParked(model) : 'no';
      if (blocked.reason === 'circuit' || parked !== 'no') {
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
      if (left <= 0) return { kind: 'fail', error: this.deadlineError(spec, now)! };
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
        {
          name: 'generate',
          data: home?.id === to.id ? base : { ...base, model: to.id },
          opts: {
            ...generateJobOptions,
            jobId: job.id ?? data.item_id,
            // The item's attempts are capped across models: the new job gets what is left.
            attempts: Math.max(1, (job.opts.attempts ?? deps.options.itemAttempts) - job.attemptsMade),
          },
        },
      ]);
    },

    /**
     * First thing for every job: true when enough other jobs of this process are already asking the
     * limiter for the same model; the job then goes back to the queue at once, cheaply (see
     * candidate-gate.ts), and the queue waits for what the limiter last said.
     */
    async yieldTurn(job: Job): Promise<boolean> {
      const queue = queues.get(job.queueName);
      if (queue === undefined) return false;
      const turn = candidates.enter(job);
      if (turn.enter) return false;
      if (turn.pauseMs > 0) await queue.rateLimit(turn.pauseMs);
      return true;
    },

    pause,

    /**
     * The job got its first provider slot: the queue's fair-share clock moves to its tag. Not
     * awaited: the provider call should leave as soon after its grant as it can.
     */
    async started(queue: Queue, job: Job): Promise<void> {
      candidates.leave(job);
      if (job.id === undefined) return;
      fair.started(queue, job.id).catch((err: unknown) => {
        deps.logger.warn({ err, queue: queue.name }, 'could not advance the fair-share clock');
      });
    },

    /**
     * Gives a call's concurrency slot back as soon as the provider answered: storing the images is
     * no provider work. The call's `finally` then calls release, which skips it.
     */
    async releaseEarly(grant: { resourceId: string; leaseId: string }): Promise<void> {
      released.add(grant.leaseId);
      await deps.limiter.release(grant.resourceId, grant.leaseId);
    },

    async release(grant: { resourceId: string; leaseId: string }): Promise<void> {
      if (released.delete(grant.leaseId)) return;
      await deps.limiter.release(grant.resourceId, grant.leaseId);
    },

    /** Wraps the processor so that the candidate gate learns when each job's run ends. */
    trackRuns<J extends Job, R>(run: (job: J, token?: string) => Promise<R>) {
      return async (job: J, token?: string): Promise<R> => {
        try {
          return await run(job, token);
        } finally {
          candidates.leave(job);
        }
      };
    },

    /**
     * Feeds the model's breaker: a 5xx, network error or timeout is a failure; any other answer of
     * the provider (200, 4xx, 429) shows the model is up. A failure of ours (reference image, upload)
     * says nothing about the model: a probe that ended that way is given back.
     */
    async record(model: ModelSpec, outcome: { err?: unknown; probe: boolean }): Promise<void> {
      const { err } = outcome;
      if (err === undefined || answeredByModel(err)) {
        await breaker.recordSuccess(model.id);
      } else if (countsAgainstCircuit(err)) {
        if ((await breaker.recordFailure(model.id)) === 'open')
          deps.logger.warn(
            { model: model.id },
            'circuit open: the model keeps failing; its items wait or fall back',
          );
      } else if (outcome.probe) {
        await breaker.abandonProbe(model.id);
      }
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
