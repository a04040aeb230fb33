import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import {
  auditCounts,
  type ChaosStack,
  chaosItems,
  logLines,
  recordRow,
  startChaosStack,
} from './support/chaos-stack.js';

let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({ workers: 2, sim: { latencyMs: { min: 1500, max: 2500 } } });
});

afterAll(async () => {
  await stack?.stop();
});

const spooledBy = (output: string) =>
  logLines(output).filter((l) => l.msg === 'provider images received and spooled').length;

function spoolFiles(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.img')) n += 1;
    }
  };
  walk(dir);
  return n;
}

describe('kill -9 of a worker', () => {
  test('mid-generation: its items are picked up again and end exactly once', async () => {
    const [victim] = stack.workers;
    const items = chaosItems(16, 'crashgen');
    const batchId = await stack.submit(items);
    // Both workers saturated (4 calls each, 1.5-2.5 s per call): the victim has calls in flight.
    await stack.waitForCount(batchId, 'running', 8, 20_000);
    const killedAt = Date.now();
    victim!.child.kill('SIGKILL');
    await victim!.exited;

    await stack.waitForBatch(batchId, 60_000);
    const recoverMs = Date.now() - killedAt;
    const a = await stack.audit(batchId);
    expect(a.lost).toBe(0);
    expect(a.duplicates).toBe(0);
    expect(a.strayObjects).toEqual([]);
    expect(a.succeeded).toBe(16);
    // Bytes that reached a worker were never generated a second time.
    expect(a.doubleGenerations).toBe(0);
    // The simulator counts calls the kill cut off (paid upstream, never delivered): at most the
    // victim's concurrency.
    expect(a.providerSuccesses - 16).toBeLessThanOrEqual(4);
    recordRow({
      fault: 'worker kill -9 mid-generation',
      injection:
        'SIGKILL to 1 of 2 workers while all 8 job slots (4 per worker) were running, sim latency 1.5-2.5 s',
      ...auditCounts(a),
      recoverMs,
      note: `${a.providerSuccesses - a.submitted} calls cut off by the kill were charged upstream but never delivered (not a regeneration of delivered bytes)`,
    });
  });

  test('mid-upload: the spooled images are uploaded by another worker, never generated again', async () => {
    await stack.startWorker();
    const [, survivor, victim] = stack.workers;
    expect(survivor!.child.exitCode).toBeNull();
    await stack.s3.stop();
    const items = chaosItems(8, 'crashup');
    const batchId = await stack.submit(items);
    // The victim has generated and spooled images whose upload now fails and retries.
    await waitFor(
      'the victim to hold spooled images',
      () => (spooledBy(victim!.output()) >= 1 ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 50,
      },
    );
    await waitFor('its upload to be failing', () =>
      victim!.output().includes('upload failed; retrying') ? true : undefined,
    );
    // Calls that started before the first upload failed must have returned (and been spooled):
    // killing the victim with a call in flight would make that image's next generation legitimate.
    const metricsPort = Number(/"metrics_port":(\d+)/.exec(victim!.output())?.[1]);
    await waitFor('the victim to have no provider call in flight', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const inFlight = [...text.matchAll(/^pixelmill_provider_calls_in_flight\{[^}]*\} (\S+)$/gm)];
      return inFlight.length > 0 && inFlight.every((m) => Number(m[1]) === 0) ? true : undefined;
    });
    const spooledByVictim = spooledBy(victim!.output());
    victim!.child.kill('SIGKILL');
    await victim!.exited;
    expect(spoolFiles(join(stack.dir, 'spool'))).toBeGreaterThanOrEqual(spooledByVictim);

    const restartedAt = Date.now();
    await stack.s3.start();
    await stack.waitForBatch(batchId, 60_000);
    const recoverMs = Date.now() - restartedAt;
    const a = await stack.audit(batchId);
    expect(a.lost).toBe(0);
    expect(a.duplicates).toBe(0);
    expect(a.succeeded).toBe(8);
    // Strict: every prompt was generated exactly once, the victim's images included.
    const successes = stack.sim.stats().successesByPrompt;
    expect(items.map((i) => successes[i.prompt])).toEqual(items.map(() => 1));
    expect(a.doubleGenerations).toBe(0);
    expect(stack.output()).toContain('from the spool, not generated again');
    expect(spoolFiles(join(stack.dir, 'spool'))).toBe(0);
    recordRow({
      fault: 'worker kill -9 mid-upload',
      injection: `S3 stopped, SIGKILL to 1 of 2 workers holding ${spooledByVictim} spooled image(s) mid-upload, S3 restarted`,
      ...auditCounts(a),
      recoverMs,
    });
  });
});
