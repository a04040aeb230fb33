/**
 * One signal per provider call: our deadline (AbortSignal.timeout) combined with the caller's signal,
 * remembering which of the two fired so a timeout is reported as `timeout`, not as a network error.
 * @module
 */

export interface Deadline {
  readonly signal: AbortSignal;
  /** True once the deadline (not the caller) aborted the call. */
  timedOut(): boolean;
}

export function startDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): Deadline {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = callerSignal === undefined ? timeout : AbortSignal.any([timeout, callerSignal]);
  return { signal, timedOut: () => timeout.aborted && callerSignal?.aborted !== true };
}
