/** @module Public shapes of the limiter. */

/** Declared limits of one resource: a provider + model + API key, e.g. "gemini|gemini-3-pro-image|key0". */
export interface ResourceLimits {
  id: string;
  /** Requests per window (per minute with the default window). */
  rpm?: number;
  /** Images per window. */
  ipm?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Length of the sliding window; default 60_000. */
  windowMs?: number;
  /** Floor of the effective rpm under AIMD; default 1. */
  minRpm?: number;
  /**
   * Smoothing: grants on the resource are at least windowMs / (effective rpm × burst) apart, so a
   * window's requests cannot all leave at once (they would reach the provider spread by network
   * jitter and meet its window edge as 429s). 2 = at most twice the average rate at any moment.
   * Unset: no spacing, the whole window may be used in one burst.
   */
  burst?: number;
}

export interface AcquireOptions {
  /** Images this request will produce (counts against ipm); default 1. */
  images?: number;
  /** How long the lease lives if never released or extended: a crashed worker's slot frees itself. */
  leaseMs: number;
  /** Who holds the lease (worker id, job id); part of the lease id, for debugging. */
  holder: string;
}

export type DenyReason = 'rpm' | 'ipm' | 'concurrency' | 'cooldown' | 'parked';

export interface Granted {
  ok: true;
  leaseId: string;
  /** Limiter time of the grant (ms); pass to onRateLimited so one burst of 429s halves once. */
  grantedAt: number;
}

export interface Denied {
  ok: false;
  /** When to try again: the longest of the blocking waits (see tryAcquire). */
  retryInMs: number;
  reason: DenyReason;
}

export type AcquireResult = Granted | Denied;

export type PickResult = (Granted & { resourceId: string }) | (Denied & { resourceId: string });

export interface ResourceState {
  declared: { rpm: number | null; ipm: number | null; concurrency: number | null };
  windowMs: number;
  /** rpm after AIMD; null when no rpm is declared. */
  effectiveRpm: number | null;
  /** Requests granted within the current window. */
  inWindow: number;
  imagesInWindow: number;
  /** Live leases. */
  inFlight: number;
  /** null when not cooling down. */
  cooldownUntil: number | null;
  /** null when not parked; 'indefinite' until unpark. */
  parkedUntil: number | 'indefinite' | null;
  /** Limiter time of this snapshot (ms). */
  at: number;
}

export interface Limiter {
  configure(resource: ResourceLimits): Promise<void>;
  tryAcquire(resourceId: string, opts: AcquireOptions): Promise<AcquireResult>;
  pickAndAcquire(resourceIds: readonly string[], opts: AcquireOptions): Promise<PickResult>;
  /**
   * The granted request was just sent: count it in the window from now rather than from its grant
   * (sent-2.lua). `images` as given to acquire. false when it is no longer in the window.
   */
  sent(resourceId: string, leaseId: string, images?: number): Promise<boolean>;
  /**
   * Gives back a grant whose request was never sent: its window entry (rpm and ipm) and its lease
   * (withdraw-3.lua). `images` as given to acquire. false when the entry had already left the window.
   */
  withdraw(resourceId: string, leaseId: string, images?: number): Promise<boolean>;
  /** false when the lease had already expired or been released. */
  release(resourceId: string, leaseId: string): Promise<boolean>;
  /** Sets the lease to expire leaseMs from now; false when it had already expired (slot lost). */
  extend(resourceId: string, leaseId: string, leaseMs: number): Promise<boolean>;
  /** Nobody acquires for ms (keeps a longer cooldown already in place); returns its end time. */
  cooldown(resourceId: string, ms: number): Promise<number>;
  /** Parks until untilMs (limiter clock, epoch ms) or, with null, until unpark. */
  park(resourceId: string, untilMs: number | null): Promise<void>;
  unpark(resourceId: string): Promise<void>;
  /**
   * AIMD decrease after a 429 (rateDecrease-2.lua); pass the request's grantedAt and the provider's
   * retry hint so that a lone disagreement at the window's edge is told from a lower real limit.
   * Returns the effective rpm, or undefined when no rpm is declared.
   */
  onRateLimited(
    resourceId: string,
    opts?: { grantedAt?: number; retryAfterMs?: number },
  ): Promise<number | undefined>;
  /** AIMD increase, one step per window after a hold; returns the effective rpm, or undefined when no rpm is declared. */
  onSuccess(resourceId: string): Promise<number | undefined>;
  state(resourceId: string): Promise<ResourceState>;
}
