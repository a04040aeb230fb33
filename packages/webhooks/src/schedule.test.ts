import { describe, expect, it } from 'vitest';
import { deliverySchedule, nextDelayMs } from './schedule.js';

const mid = (): number => 0.5;

describe('nextDelayMs', () => {
  it('follows the documented schedule (attempt = attempts made so far)', () => {
    const delays = Array.from({ length: 9 }, (_, i) => nextDelayMs(i, deliverySchedule, mid));
    expect(delays).toEqual([
      0,
      5_000,
      300_000,
      1_800_000,
      7_200_000,
      18_000_000,
      36_000_000,
      36_000_000,
      undefined,
    ]);
  });

  it('allows exactly eight attempts', () => {
    let attempts = 1;
    while (nextDelayMs(attempts, deliverySchedule, mid) !== undefined) attempts++;
    expect(attempts).toBe(8);
  });

  it('jitters by at most ±10 %', () => {
    expect(nextDelayMs(1, deliverySchedule, () => 0)).toBe(4_500);
    expect(nextDelayMs(1, deliverySchedule, () => 0.999_999)).toBe(5_500);
    expect(nextDelayMs(6, deliverySchedule, () => 0)).toBe(32_400_000);
  });

  it('keeps a zero delay a delay, not an end', () => {
    expect(nextDelayMs(0, deliverySchedule, () => 0.9)).toBe(0);
    expect(nextDelayMs(1, [0, 0], () => 0.9)).toBe(0);
    expect(nextDelayMs(2, [0, 0])).toBeUndefined();
  });

  it('uses Math.random by default', () => {
    const d = nextDelayMs(2);
    expect(d).toBeGreaterThanOrEqual(270_000);
    expect(d).toBeLessThanOrEqual(330_000);
  });

  it('rejects nonsense attempt counts', () => {
    expect(() => nextDelayMs(-1)).toThrow(RangeError);
    expect(() => nextDelayMs(1.5)).toThrow(RangeError);
  });
});
