/**
 * A worker that stops answering for longer than its job locks (a long GC pause, a starved CPU, a VM
 * that was paused) but is not dead: BullMQ's stalled-job check hands its jobs to another worker while
 * its provider calls are still being answered. The item lease must keep the other worker from paying
 * for the same images again; the stalled worker stores what it was given when it wakes up.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import {
  auditCounts,
  type ChaosStack,
  chaosItems,
  recordRow,
  startChaosStack,
} from './support/chaos-stack.js';

let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({
    workers: 2,
    sim: { latencyMs: { min: 1500, max: 2500 } },
    // Locks lapse after 5 s (the chaos stack's setting); an item stays its runner's for 30 s.
    env: { WORKER_ITEM_LEASE_MS: '30000' },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('a stalled worker (SIGSTOP past its locks)', () => {
  test('its jobs are taken over but not generated again; it stores its images when it resumes', async () => {
    const [victim, survivor] = stack.workers;
    const items = chaosItems(16, 'stall');
    const batchId = await stack.submit(items);
    await stack.waitForCount(batchId, 'running', 8, 20_000);
    const stoppedAt = Date.now();
    victim!.child.kill('SIGSTOP');
    try {
      // The survivor's stalled-job check finds the victim's lapsed locks and takes its jobs.
      await waitFor(
        "the survivor to take the stalled worker's jobs",
        () => (survivor!.output().includes('job stalled') ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      // Long enough for the survivor to run a taken-over item (calls take 1.5-2.5 s): stay stopped
      // until an image is paid for twice, or 5 s. Within the item lease (WORKER_ITEM_LEASE_MS).
      const takenAt = Date.now();
      const paidTwice = () => Object.values(stack.sim.stats().successesByPrompt).some((n) => n > 1);
      await waitFor(
        'a takeover to run',
        () => (paidTwice() || Date.now() - takenAt > 5000 ? true : undefined),
        {
          timeoutMs: 10_000,
          intervalMs: 50,
        },
      );
    } finally {
      victim!.child.kill('SIGCONT');
    }
    const stalledMs = Date.now() - stoppedAt;
    await stack.waitForBatch(batchId, 90_000);
    const a = await stack.audit(batchId);
    expect([a.lost, a.duplicates, a.succeeded, a.failed]).toEqual([0, 0, 16, 0]);
    expect(a.strayObjects).toEqual([]);
    expect(a.doubleGenerations).toBe(0);
    // Strict: the provider was paid once per image, the stalled worker's calls included.
    const successes = stack.sim.stats().successesByPrompt;
    expect(items.map((i) => successes[i.prompt])).toEqual(items.map(() => 1));
    expect(victim!.child.exitCode).toBeNull();
    // The takeover met the lease (not luck of timing), and the stalled worker finished the items.
    expect(survivor!.output()).toContain('still leased by another worker');
    recordRow({
      fault: 'worker stalled past its locks',
      injection: `SIGSTOP to 1 of 2 busy workers for ${(stalledMs / 1000).toFixed(1)} s (lock 5 s), until the other took its jobs; then SIGCONT`,
      ...auditCounts(a),
      recoverMs: stalledMs,
      note: 'time = SIGSTOP to SIGCONT',
    });
  });
});
