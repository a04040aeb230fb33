import { BUILTIN_MODELS } from '@pixelmill/providers';
import type { ModelLimitState } from '@pixelmill/ratelimit';
import { describe, expect, test } from 'vitest';
import { makespanEstimateMs, realtimeRate } from './auto.js';

const flash = BUILTIN_MODELS.find((m) => m.id === 'gemini-3.1-flash-image')!;

const keyState = (
  effectiveRpm: number | null,
  declared: { rpm?: number; ipm?: number },
  revoked = false,
) => ({
  keyId: 'k',
  revoked: revoked ? { until: Date.now() + 1000, reason: 'x' } : null,
  state: {
    declared: { rpm: declared.rpm ?? null, ipm: declared.ipm ?? null, concurrency: 4 },
    windowMs: 60_000,
    effectiveRpm,
    inWindow: 0,
    imagesInWindow: 0,
    inFlight: 0,
    cooldownUntil: null,
    parkedUntil: null,
    at: 0,
  },
});

describe('auto: realtime makespan estimate', () => {
  test('from the live state: AIMD rate of each key in rotation, capped by images per minute', () => {
    const state = {
      model: flash.id,
      provider: 'gemini',
      circuit: 'closed',
      keys: [keyState(20, { rpm: 30 }), keyState(30, { rpm: 30, ipm: 10 }), keyState(30, { rpm: 30 }, true)],
    } as unknown as ModelLimitState;
    // Calls of 30 s: concurrency 4 allows 8 a minute per key; calls of 1 s do not limit.
    expect(realtimeRate(flash, 3, state, 1000)).toEqual({ perWindow: 30, windowMs: 60_000 });
    expect(realtimeRate(flash, 3, state, 30_000)).toEqual({ perWindow: 16, windowMs: 60_000 });
  });

  test('without live state: the declared limits times the keys', () => {
    // Declared: 30 rpm, concurrency 10 (20 calls of 30 s a minute).
    expect(realtimeRate(flash, 2, undefined, 1000)).toEqual({ perWindow: 60, windowMs: 60_000 });
    expect(realtimeRate(flash, 2, undefined)).toEqual({ perWindow: 40, windowMs: 60_000 });
  });

  test('images over the rate, plus the margin', () => {
    expect(makespanEstimateMs(90, { perWindow: 30, windowMs: 60_000 }, 5000)).toBe(185_000);
    expect(makespanEstimateMs(0, { perWindow: 30, windowMs: 60_000 }, 5000)).toBe(5000);
  });
});
