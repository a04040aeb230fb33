/**
 * @module The model's circuit breaker, fed by what each provider call showed of the model's health:
 * a 5xx, network error or timeout counts against it, any answer of the provider (200, 4xx, 429)
 * shows it is up, and a failure of our own (reference image, upload) says nothing.
 */
import { isProviderError } from '@pixelmill/core';
import type { ModelSpec } from '@pixelmill/providers';
import { type CircuitBreaker, createCircuitBreaker, schedulingPrefixes } from '@pixelmill/ratelimit';
import type { WorkerDeps } from '../deps.js';

/** A half-open probe that never reports back (crashed worker) frees the probe turn after this. */
const PROBE_LEASE_MS = 60_000;

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

export function createCircuitPolicy(deps: Pick<WorkerDeps, 'redis' | 'queues' | 'options' | 'logger'>) {
  const breaker: CircuitBreaker = createCircuitBreaker(deps.redis, {
    prefix: schedulingPrefixes(deps.queues.prefix).circuit,
    failureThreshold: deps.options.circuit.failures,
    openMs: deps.options.circuit.openMs,
    probeLeaseMs: PROBE_LEASE_MS,
  });
  return {
    breaker,
    /** A call's result reaches the breaker; a probe that ended by our own failure is given back. */
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

export type CircuitPolicy = ReturnType<typeof createCircuitPolicy>;
