import type { DeliveryResult } from '@pixelmill/webhooks';
import { describe, expect, it } from 'vitest';
import { attemptOutcome } from './outcome.js';

const schedule = [0, 5_000, 300_000, 1_800_000];
const noJitter = () => 0.5;
const failed = (extra: Partial<DeliveryResult> = {}): DeliveryResult => ({
  ok: false,
  status: 500,
  latencyMs: 3,
  responseExcerpt: '',
  ...extra,
});

describe('attemptOutcome', () => {
  it('ends on a 2xx', () => {
    expect(attemptOutcome({ ...failed(), ok: true, status: 204 }, 1, schedule)).toEqual({
      kind: 'succeeded',
    });
  });

  it('retries on the schedule: attempt n waits schedule[n]', () => {
    expect(attemptOutcome(failed(), 1, schedule, noJitter)).toEqual({ kind: 'retry', delayMs: 5_000 });
    expect(attemptOutcome(failed({ status: null, error: 'timeout' }), 2, schedule, noJitter)).toEqual({
      kind: 'retry',
      delayMs: 300_000,
    });
  });

  it('gives up once the schedule is used up', () => {
    expect(attemptOutcome(failed(), 4, schedule, noJitter)).toEqual({ kind: 'failed', reason: 'exhausted' });
  });

  it('stops at once on 410 Gone and on abort-message, whatever the schedule says', () => {
    expect(attemptOutcome(failed({ status: 410 }), 1, schedule)).toEqual({ kind: 'failed', reason: 'gone' });
    expect(attemptOutcome(failed({ status: 500, abort: true }), 1, schedule)).toEqual({
      kind: 'failed',
      reason: 'aborted',
    });
  });

  it('honours a longer Retry-After, never a shorter one, and caps it at the longest step', () => {
    expect(attemptOutcome(failed({ status: 429, retryAfterMs: 60_000 }), 1, schedule, noJitter)).toEqual({
      kind: 'retry',
      delayMs: 60_000,
    });
    expect(attemptOutcome(failed({ status: 503, retryAfterMs: 1_000 }), 1, schedule, noJitter)).toEqual({
      kind: 'retry',
      delayMs: 5_000,
    });
    expect(attemptOutcome(failed({ status: 429, retryAfterMs: 86_400_000 }), 1, schedule, noJitter)).toEqual({
      kind: 'retry',
      delayMs: 1_800_000,
    });
  });
});
