/** @module When to retry a delivery (api.md: 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). */

/** Delay before attempt n+1, in ms; its length is the total number of attempts (8). */
export const deliverySchedule: readonly number[] = [
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];

/** ±10 %: spreads retries of many deliveries that failed together (e.g. a receiver outage). */
const JITTER = 0.1;

/**
 * Delay in ms before the next attempt, or `undefined` when the schedule is exhausted.
 *
 * @param attempt how many attempts have been made so far (1 after the first send).
 * @param random a `[0, 1)` source, injectable for tests.
 * @example nextDelayMs(1) // ≈ 5_000 (4_500–5_500); nextDelayMs(8) // undefined
 */
export function nextDelayMs(
  attempt: number,
  schedule: readonly number[] = deliverySchedule,
  random: () => number = Math.random,
): number | undefined {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  }
  const base = schedule[attempt];
  if (base === undefined) return undefined;
  return Math.round(base * (1 + (random() * 2 - 1) * JITTER));
}
