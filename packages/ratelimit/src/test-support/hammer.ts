/**
 * @module Load generator shared by the in-process tests and the child process: several
 * concurrent loops call tryAcquire until a deadline, each honouring the retry hint it gets, and
 * record the limiter time of every grant.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Limiter } from '../types.js';

export async function hammer(
  limiter: Limiter,
  resourceId: string,
  opts: { endAt: number; loops: number; holder: string },
): Promise<number[]> {
  const grants: number[] = [];
  const loop = async (n: number) => {
    while (Date.now() < opts.endAt) {
      const r = await limiter.tryAcquire(resourceId, { leaseMs: 5_000, holder: `${opts.holder}-${n}` });
      if (r.ok) {
        grants.push(r.grantedAt);
        await limiter.release(resourceId, r.leaseId);
      } else {
        // The client behaviour under test: wait what the limiter says (never past the deadline).
        await delay(Math.min(r.retryInMs, Math.max(0, opts.endAt - Date.now())));
      }
    }
  };
  await Promise.all(Array.from({ length: opts.loops }, (_, n) => loop(n)));
  return grants;
}

/** The most grants found in any span [t, t + windowMs) starting at a grant. */
export function maxInAnyWindow(grants: readonly number[], windowMs: number): number {
  const sorted = [...grants].sort((a, b) => a - b);
  let max = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    max = Math.max(max, end - start);
  }
  return max;
}
