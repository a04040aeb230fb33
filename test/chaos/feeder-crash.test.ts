// No accepted item is lost between the feeder's two steps: a worker killed after its feeder picked
// items (step 1) and before their jobs were added (step 2) leaves a pending record, and another
// worker's feeder adds those jobs; every item ends once and none is generated twice. The crash point
// is a test-only hook (services/worker/src/test-crash.ts).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  auditCounts,
  type ChaosStack,
  chaosItems,
  logLines,
  recordRow,
  startChaosStack,
} from './support/chaos-stack.js';

let stack: ChaosStack;
/** Jobs each model's queue holds waiting: the API queues 4 of a batch, the feeder the rest. */
const HIGH_WATER = '4';

beforeAll(async () => {
  // Workers are started by the test, with or without the crash point.
  stack = await startChaosStack({ workers: 0, env: { PIXELMILL_FEED_HIGH_WATER: HIGH_WATER } });
});

afterAll(async () => {
  await stack?.stop();
});

describe('kill -9 of a feeding worker', () => {
  test('between picking items and adding their jobs: another worker queues them, every item ends once', async () => {
    const victim = await stack.startWorker({ PIXELMILL_TEST_CRASH_IN_FEED: '1' });
    const batchId = await stack.submit(chaosItems(12, 'feedcrash'));
    // Its first job starts, its feeder picks the next items and the hook kills it.
    await victim.exited;
    const killedAt = Date.now();
    const survivor = await stack.startWorker();
    await stack.waitForBatch(batchId, 90_000);
    const a = await stack.audit(batchId);
    expect(a.lost).toBe(0);
    expect(a.duplicates).toBe(0);
    expect(a.succeeded).toBe(12);
    expect(a.doubleGenerations).toBe(0);
    const recovered = logLines(survivor.output()).filter(
      (l) => l.msg === 'queued the items of a feed its feeder did not finish',
    );
    expect(recovered.length).toBeGreaterThan(0);
    recordRow({
      fault: 'worker kill -9 between the feeder picking items and adding their jobs',
      injection: `SIGKILL of the only worker right after its feeder's first pick (test hook), PIXELMILL_FEED_HIGH_WATER=${HIGH_WATER}, then a new worker`,
      ...auditCounts(a),
      recoverMs: Date.now() - killedAt,
      note: `${recovered.reduce((n, l) => n + Number(l.items), 0)} picked items queued by the new worker's feeder`,
    });
  });
});
