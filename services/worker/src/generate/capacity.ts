/**
 * @module Capacity and turn-taking: a job asks the model's circuit, then the shared limiter's key
 * rotation, for a slot; short waits for the next slot are waited out holding the job, one job of
 * this process asking per queue at a time; slots go back as soon as the provider answered.
 */
import { queueNames } from '@pixelmill/core';
import type { ModelSpec } from '@pixelmill/providers';
import type { PickResult } from '@pixelmill/ratelimit';
import type { Job, Queue } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { CandidateGate } from './candidate-gate.js';
import type { CircuitPolicy } from './circuit-policy.js';

/** While another worker's probe is out, look again this often. */
const PROBE_POLL_MS = 500;
/** Waits for capacity up to this long are waited out holding the job (see acquire). */
const LOCAL_WAIT_MS = 2_000;
/** ... and at most this long in all, per acquire. */
const LOCAL_WAIT_BUDGET_MS = 5_000;
const LOCALLY_WAITED: readonly string[] = ['rpm', 'ipm', 'concurrency', 'cooldown'];

/** A limiter denial, the model's open circuit, or no key of the provider left in rotation. */
export type Blocked =
  | Extract<PickResult, { ok: false }>
  | { ok: false; reason: 'circuit' | 'revoked' | 'trial'; retryInMs: number; resourceId?: undefined };

export type Acquired = Extract<PickResult, { ok: true }> & { probe: boolean };

export interface AcquireOpts {
  images: number;
  leaseMs: number;
  holder: string;
}

export function createCapacity(deps: WorkerDeps, circuit: CircuitPolicy) {
  const { breaker } = circuit;
  const candidates = new CandidateGate();
  /** Generation queues by name (the gate needs the queue before the job's item is read). */
  const queues = new Map(
    deps.registry.list().map((m) => [queueNames.generate(m.id), deps.queues.generate(m.id)] as const),
  );
  /** Per queue: the end of the last acquire of this process (acquires run one after another). */
  const asking = new Map<string, Promise<void>>();
  /** Leases already given back (a call's slot returns as soon as the provider answered). */
  const released = new Set<string>();

  /** Per resource: the asker of this process sleeping for a slot on it, woken when one is given back here. */
  const sleepers = new Map<string, Set<() => void>>();

  /** A slot on the resource was given back by this process: its sleeping asker asks again now. */
  function freed(resourceId: string): void {
    const wake = sleepers.get(resourceId);
    if (wake === undefined) return;
    sleepers.delete(resourceId);
    for (const w of wake) w();
  }

  /**
   * Sleeps ms, or less when this process gives back a slot on one of the resources. Slots freed by
   * other processes are seen at the limiter's next hint (concurrency hints are short, see the
   * limiter's concurrencyPollMs).
   */
  async function sleepUntilFreed(ms: number, resourceIds: readonly string[]): Promise<void> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    for (const id of resourceIds) {
      const set = sleepers.get(id) ?? new Set();
      sleepers.set(id, set);
      set.add(wake);
    }
    const timer = setTimeout(wake, ms);
    try {
      await woken;
    } finally {
      clearTimeout(timer);
      for (const id of resourceIds) {
        const set = sleepers.get(id);
        set?.delete(wake);
        if (set?.size === 0) sleepers.delete(id);
      }
    }
  }

  /** No capacity until ms from now: the queue stops handing out jobs for that long. */
  async function pause(queue: Queue, ms: number): Promise<void> {
    candidates.paused(queue.name, ms);
    await queue.rateLimit(ms);
  }

  async function askLimiter(
    queue: Queue,
    model: ModelSpec,
    resourceIds: string[],
    opts: AcquireOpts,
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
      await sleepUntilFreed(grant.retryInMs, resourceIds);
    }
  }

  return {
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
      opts: AcquireOpts,
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
    started(queue: Queue, job: Job, advance: (queue: Queue, jobId: string) => Promise<unknown>): void {
      candidates.leave(job);
      if (job.id === undefined) return;
      advance(queue, job.id).catch((err: unknown) => {
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
      freed(grant.resourceId);
    },

    /**
     * A grant whose request was never sent goes back whole: its window entry too, so the slot serves
     * another request in this window (ratelimit withdraw-3.lua).
     */
    async withdraw(grant: { resourceId: string; leaseId: string }, images: number): Promise<void> {
      released.delete(grant.leaseId);
      await deps.limiter.withdraw(grant.resourceId, grant.leaseId, images);
      freed(grant.resourceId);
    },

    async release(grant: { resourceId: string; leaseId: string }): Promise<void> {
      if (released.delete(grant.leaseId)) return;
      await deps.limiter.release(grant.resourceId, grant.leaseId);
      freed(grant.resourceId);
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
  };
}
