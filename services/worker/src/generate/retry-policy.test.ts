import { type ErrorScope, type ItemErrorCode, itemErrorCodes, ProviderError } from '@pixelmill/core';
import { describe, expect, it } from 'vitest';
import { HAND_BACK_MS, MAX_HINTED_DELAY_MS, retryPolicy } from './retry-policy.js';

const MAX = 3;
const attempts = { first: 0, middle: 1, last: MAX - 1 } as const;
const scopes: ErrorScope[] = ['item', 'key', 'model', 'provider'];

/** Retryability and status as the classifiers and the worker's own steps give them. */
const errorClass: Record<ItemErrorCode, { retryable: boolean; status?: number }> = {
  content_blocked: { retryable: false, status: 400 },
  invalid_prompt: { retryable: false, status: 400 },
  provider_error: { retryable: true, status: 500 },
  quota_exhausted: { retryable: false, status: 429 },
  rate_limited: { retryable: true, status: 429 },
  timeout: { retryable: true },
  no_image: { retryable: true, status: 200 },
  config_error: { retryable: false, status: 401 },
  reference_image_error: { retryable: false },
  storage_error: { retryable: true },
  storage_rejected: { retryable: false },
  expired: { retryable: false },
  internal_error: { retryable: true },
};

type Expected = 'wait' | 'retry' | 'fail';
/** What the policy must answer: [first or middle attempt, last attempt], and the key's effect. */
function expected(code: ItemErrorCode, scope: ErrorScope): { early: Expected; last: Expected; key: string } {
  if (code === 'rate_limited') return { early: 'wait', last: 'wait', key: 'cooldown' };
  if (code === 'quota_exhausted') return { early: 'wait', last: 'wait', key: 'park' };
  if (code === 'config_error' && scope === 'key') return { early: 'wait', last: 'wait', key: 'revoke' };
  if (errorClass[code].retryable) return { early: 'retry', last: 'fail', key: 'none' };
  return { early: 'fail', last: 'fail', key: 'none' };
}

const make = (code: ItemErrorCode, scope: ErrorScope, extra: { retryAfterMs?: number } = {}) =>
  new ProviderError({ code, message: `a ${code}`, scope, providerCode: 'X', ...errorClass[code], ...extra });

describe('retryPolicy: every error class × scope × attempt', () => {
  for (const code of itemErrorCodes) {
    for (const scope of scopes) {
      for (const [when, attemptsMade] of Object.entries(attempts)) {
        const want = expected(code, scope);
        const kind = when === 'last' ? want.last : want.early;
        it(`${code} (${scope}) on the ${when} attempt → ${kind}, key ${want.key}`, () => {
          const { outcome, key } = retryPolicy(make(code, scope), {
            attemptsMade,
            maxAttempts: MAX,
            now: 1000,
          });
          expect(outcome.kind).toBe(kind);
          expect(key.kind).toBe(want.key);
          if (outcome.kind === 'wait') {
            // Waiting never spends an attempt, and only this job waits.
            expect(outcome).toMatchObject({ refundAttempt: true, via: 'job', error: { code } });
            expect(outcome.ms).toBeGreaterThan(0);
          }
          if (outcome.kind === 'fail') {
            expect(outcome.error.code).toBe(code);
            if (kind === 'fail' && want.early === 'retry')
              expect(outcome.error.message).toMatch(/gave up after 3/);
          }
          if (outcome.kind === 'retry') expect(outcome.error.code).toBe(code);
        });
      }
    }
  }
});

describe('retryPolicy: waits and key effects', () => {
  const ctx = { attemptsMade: 0, maxAttempts: MAX, now: 1_000_000, random: () => 0.5 };

  it('a hinted 429 waits for the hint plus jitter (at most a minute); the key cools for the whole hint', () => {
    const short = retryPolicy(make('rate_limited', 'key', { retryAfterMs: 12_500 }), ctx);
    expect(short.outcome).toMatchObject({ kind: 'wait', ms: 12_500 + Math.floor(0.5 * 1000) });
    expect(short.key).toEqual({ kind: 'cooldown', ms: 13_000, hintMs: 12_500 });
    const long = retryPolicy(make('rate_limited', 'key', { retryAfterMs: 600_000 }), ctx);
    expect(long.outcome).toMatchObject({ kind: 'wait', ms: MAX_HINTED_DELAY_MS });
    expect(long.key).toMatchObject({ kind: 'cooldown', ms: 600_000 + 500 });
  });

  it('an unhinted 429 hands the job back at once and cools the key for a jittered backoff', () => {
    const d = retryPolicy(make('rate_limited', 'key'), ctx);
    expect(d.outcome).toMatchObject({ kind: 'wait', ms: HAND_BACK_MS });
    expect(d.key).toMatchObject({ kind: 'cooldown', hintMs: undefined });
  });

  it('a quota with a known reset parks the key until then; without one, until unparked', () => {
    expect(retryPolicy(make('quota_exhausted', 'key', { retryAfterMs: 5_000 }), ctx).key).toEqual({
      kind: 'park',
      untilMs: 1_005_000,
    });
    expect(retryPolicy(make('quota_exhausted', 'provider'), ctx).key).toEqual({
      kind: 'park',
      untilMs: null,
    });
  });

  it("a refused key is revoked with the provider's code as the reason, never the key", () => {
    const d = retryPolicy(make('config_error', 'key'), ctx);
    expect(d).toMatchObject({
      outcome: { kind: 'wait', ms: HAND_BACK_MS },
      key: { kind: 'revoke', reason: 'X' },
    });
    // The same code for the model or the request is the model's configuration: the item fails.
    expect(retryPolicy(make('config_error', 'model'), ctx).outcome.kind).toBe('fail');
  });

  it('a failed circuit probe waits instead of spending the attempt; a 4xx probe does not', () => {
    const probe = { ...ctx, attemptsMade: MAX - 1, probe: true };
    expect(retryPolicy(make('provider_error', 'item'), probe).outcome.kind).toBe('wait');
    expect(retryPolicy(make('timeout', 'item'), probe).outcome.kind).toBe('wait');
    expect(retryPolicy(make('invalid_prompt', 'item'), probe).outcome.kind).toBe('fail');
  });

  it('anything that is not a ProviderError is an internal_error, retried', () => {
    const d = retryPolicy(new Error('boom'), ctx);
    expect(d.outcome).toMatchObject({ kind: 'retry', error: { code: 'internal_error', message: 'boom' } });
  });
});
