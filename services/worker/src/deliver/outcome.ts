/** @module What follows one delivery attempt: pure, so the schedule rules are unit-tested. */
import type { DeliveryResult } from '@pixelmill/webhooks';
import { nextDelayMs } from '@pixelmill/webhooks';

export type AttemptOutcome =
  | { kind: 'succeeded' }
  /** `gone` (410: the endpoint is disabled too), `aborted` (the receiver asked), `exhausted`. */
  | { kind: 'failed'; reason: 'gone' | 'aborted' | 'exhausted' }
  | { kind: 'retry'; delayMs: number };

/**
 * @param seriesAttempts attempts made in the current series, this one included (1 after the first).
 * @param schedule delays in ms before attempt n+1 (api.md: 0 s, 5 s, 5 min, … ; compressed in tests).
 */
export function attemptOutcome(
  result: DeliveryResult,
  seriesAttempts: number,
  schedule: readonly number[],
  random: () => number = Math.random,
): AttemptOutcome {
  if (result.ok) return { kind: 'succeeded' };
  if (result.status === 410) return { kind: 'failed', reason: 'gone' };
  if (result.abort === true) return { kind: 'failed', reason: 'aborted' };
  const scheduled = nextDelayMs(seriesAttempts, schedule, random);
  if (scheduled === undefined) return { kind: 'failed', reason: 'exhausted' };
  // Retry-After can only push the next attempt later, and at most to the schedule's longest step, so a
  // receiver cannot park a delivery for days.
  const longest = Math.max(...schedule);
  const hinted = Math.min(result.retryAfterMs ?? 0, longest);
  return { kind: 'retry', delayMs: Math.max(scheduled, hinted) };
}
