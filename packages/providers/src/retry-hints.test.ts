import { describe, expect, it } from 'vitest';
import { msUntilPacificMidnight, retryAfterFromHeaders } from './retry-hints.js';

describe('retry hints', () => {
  it('reads retry-after-ms first, then retry-after (values: @pixelmill/core parseRetryAfter)', () => {
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '250.5', 'retry-after': '3' }))).toBe(250.5);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '-1', 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '-5' }))).toBeUndefined();
    expect(retryAfterFromHeaders(new Headers())).toBeUndefined();
    expect(retryAfterFromHeaders(undefined)).toBeUndefined();
  });

  it('counts to midnight Pacific, across DST changes', () => {
    expect(msUntilPacificMidnight(Date.UTC(2026, 10, 24, 12, 0, 0))).toBe(20 * 3_600_000); // 04:00 PST
    expect(msUntilPacificMidnight(Date.UTC(2026, 6, 1, 6, 30, 0))).toBe(30 * 60_000); // 23:30 PDT
    // 2026-03-08 is 23 h long in Los Angeles: from 00:30 PST, midnight is 22.5 h away.
    expect(msUntilPacificMidnight(Date.UTC(2026, 2, 8, 8, 30, 0))).toBe(22.5 * 3_600_000);
    // 2026-11-01 is 25 h long: from 00:30 PDT, midnight is 24.5 h away.
    expect(msUntilPacificMidnight(Date.UTC(2026, 10, 1, 7, 30, 0))).toBe(24.5 * 3_600_000);
  });
});
