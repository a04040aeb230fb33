import { describe, expect, it } from 'vitest';
import { fullJitterBackoff } from './backoff.js';

describe('fullJitterBackoff', () => {
  const opts = { baseMs: 1_000, capMs: 8_000 };

  it('doubles the ceiling per attempt from baseMs at attempt 0, up to capMs', () => {
    const almostOne = () => 0.999_999;
    const ceilings = [0, 1, 2, 3, 4, 9].map((a) => fullJitterBackoff(a, { ...opts, random: almostOne }));
    expect(ceilings).toEqual([999, 1_999, 3_999, 7_999, 7_999, 7_999]);
  });

  it('spreads delays over [0, ceiling)', () => {
    expect(fullJitterBackoff(2, { ...opts, random: () => 0 })).toBe(0);
    expect(fullJitterBackoff(2, { ...opts, random: () => 0.5 })).toBe(2_000);
    for (let i = 0; i < 100; i++) {
      const d = fullJitterBackoff(1, opts);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(2_000);
    }
  });

  it('returns undefined after maxRetries, and 0 is a delay, not a stop', () => {
    const limited = { ...opts, maxRetries: 2, random: () => 0 };
    expect(fullJitterBackoff(0, limited)).toBe(0);
    expect(fullJitterBackoff(1, limited)).toBe(0);
    expect(fullJitterBackoff(2, limited)).toBeUndefined();
  });

  it('stays finite for huge attempts and rejects negative or fractional attempts', () => {
    expect(fullJitterBackoff(5_000, { ...opts, random: () => 0.5 })).toBe(4_000);
    expect(fullJitterBackoff(5_000, { baseMs: 0, capMs: 100, random: () => 0.5 })).toBe(0);
    expect(() => fullJitterBackoff(-1, opts)).toThrow(RangeError);
    expect(() => fullJitterBackoff(1.5, opts)).toThrow(RangeError);
  });
});
