// No lost webhook events: an item's end and its event are one Redis step (the outbox), and the relay
// that turns outbox entries into deliveries removes an entry only after its deliveries are queued. A
// worker killed right after ending an item, or its relay killed mid-send, loses no event and sends
// none under a second webhook-id. A worker killed between a webhook POST and recording it holds the
// delivery's lease until it lapses; then another worker sends it again under the same webhook-id. The
// crash points are test-only hooks (services/worker/src/test-crash.ts).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import {
  auditCounts,
  type ChaosStack,
  chaosItems,
  recordRow,
  startChaosStack,
} from './support/chaos-stack.js';

const SECRET = 'whsec_Y2hhb3Mtb3V0Ym94LXNlY3JldC1zZWNyZXQtMTIzNA==';
let stack: ChaosStack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  // Workers are started by each test, with or without a crash point.
  stack = await startChaosStack({ workers: 0, env: { WORKER_OUTBOX_CLAIM_IDLE_MS: '2000' } });
  receiver = await startWebhookReceiver(SECRET);
});

afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

/** Submits `count` items whose batch webhook wants every item.succeeded and the batch.completed. */
async function submit(tag: string, count: number): Promise<string> {
  return stack.submit(chaosItems(count, tag), {
    webhook: { url: receiver.url, secret: SECRET, events: ['item.succeeded', 'batch.completed'] },
  });
}

/**
 * Waits until every item and the batch have an event, then checks each has exactly one webhook-id.
 * Returns how many verified requests repeated a webhook-id already received (allowed: a send cut off
 * by the kill is sent again under the same id).
 */
async function expectEveryEventOnce(batchId: string, itemIds: string[]): Promise<number> {
  const mine = () =>
    receiver.received.filter(
      (r) =>
        r.payload.data.batch_id === batchId ||
        (r.type === 'batch.completed' && r.payload.data.id === batchId),
    );
  const subject = (r: { type: string; payload: { data: Record<string, unknown> } }) =>
    r.type === 'batch.completed' ? 'batch' : String(r.payload.data.id);
  await waitFor(
    `an event for each of ${itemIds.length} items and the batch`,
    () => (new Set(mine().map(subject)).size === itemIds.length + 1 ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  const got = mine();
  const idsBySubject = new Map<string, Set<string>>();
  for (const r of got) idsBySubject.set(subject(r), (idsBySubject.get(subject(r)) ?? new Set()).add(r.id));
  expect([...idsBySubject.keys()].sort()).toEqual([...itemIds, 'batch'].sort());
  for (const [, ids] of idsBySubject) expect(ids.size).toBe(1);
  expect(receiver.rejected).toBe(0);
  return got.length - idsBySubject.size;
}

/**
 * Kills any running worker, starts one that kills itself at `crashPoint`, submits `count` items, and
 * once it died starts a healthy worker and waits for the batch: nothing lost or generated twice, every
 * event received under one webhook-id. `received` is what the receiver had of the batch at the kill.
 */
async function crashThenRecover(
  crashPoint: string,
  tag: string,
  count: number,
  env: Record<string, string> = {},
) {
  for (const w of stack.workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await Promise.all(stack.workers.map((w) => w.exited));
  const victim = await stack.startWorker({ ...env, [crashPoint]: '1' });
  const batchId = await submit(tag, count);
  await victim.exited;
  const killedAt = Date.now();
  const received = receiver.received.filter((r) => r.payload.data.batch_id === batchId);
  const next = await stack.startWorker(env);
  await stack.waitForBatch(batchId, 60_000);
  const a = await stack.audit(batchId);
  expect(a.lost).toBe(0);
  expect(a.duplicates).toBe(0);
  expect(a.succeeded).toBe(count);
  const repeats = await expectEveryEventOnce(
    batchId,
    a.items.map((i) => i.id as string),
  );
  return { a, repeats, killedAt, victim, next, received, batchId };
}

describe('kill -9 and webhook events', () => {
  test('a worker killed right after ending an item: its item.succeeded is still sent, once', async () => {
    const { a, repeats, killedAt } = await crashThenRecover(
      'PIXELMILL_TEST_CRASH_AFTER_END_ITEM',
      'endcrash',
      6,
    );
    recordRow({
      fault: 'worker kill -9 between an item end and its event',
      injection:
        'SIGKILL of the only worker right after its first end-item script (test hook), then a new worker',
      ...auditCounts(a),
      recoverMs: Date.now() - killedAt,
      note: `every item.succeeded and the batch.completed delivered under one webhook-id each; ${repeats} repeated sends`,
    });
  });

  test('the relay killed mid-send: every event delivered, once per webhook-id', async () => {
    // Only the crashing relay runs when the first entry is written.
    const { a, repeats, killedAt, victim } = await crashThenRecover(
      'PIXELMILL_TEST_CRASH_IN_RELAY',
      'relaycrash',
      6,
    );
    expect(victim.output()).not.toContain('"msg":"batch completed"');
    recordRow({
      fault: 'outbox relay kill -9 mid-send',
      injection:
        'SIGKILL of the only worker after its relay queued an entry’s deliveries, before removing the entry (test hook)',
      ...auditCounts(a),
      recoverMs: Date.now() - killedAt,
      note: `the entry was claimed by the next worker's relay after 2 s idle; ${repeats} repeated sends, all under their first webhook-id`,
    });
  });

  test('a worker killed after a POST, before recording it: sent again under the same webhook-id once its lease lapses', async () => {
    // A lease is the attempt's deadline plus a job lock's duration (5 s here): 7 s.
    const { a, killedAt, next, received, batchId } = await crashThenRecover(
      'PIXELMILL_TEST_CRASH_AFTER_WEBHOOK_POST',
      'postcrash',
      4,
      { PIXELMILL_WEBHOOK_TIMEOUT_MS: '2000' },
    );
    // Every POST answered before the kill was cut off before its record (the first answer killed it).
    // The batch can finish before the lease lapses: wait for each of them to be sent again, under
    // its own webhook-id.
    expect(received.length).toBeGreaterThanOrEqual(1);
    const sends = (id: string) => receiver.received.filter((r) => r.id === id).length;
    await waitFor(
      'every cut-off POST sent again',
      () => (received.every((sent) => sends(sent.id) >= 2) ? true : undefined),
      { timeoutMs: 60_000 },
    );
    await waitFor('the new worker to report the recovered lease', () =>
      next.output().includes('are sent again') ? true : undefined,
    );
    expect(
      await expectEveryEventOnce(
        batchId,
        a.items.map((i) => i.id as string),
      ),
    ).toBeGreaterThanOrEqual(received.length);
    recordRow({
      fault: 'worker kill -9 between a webhook POST and its record',
      injection:
        'SIGKILL of the only worker right after its first webhook POST was answered, before the attempt was recorded (test hook), then a new worker',
      ...auditCounts(a),
      recoverMs: Date.now() - killedAt,
      note: `the lease of the ${received.length} cut-off deliveries lapsed and the new worker sent them again under the same webhook-ids`,
    });
  });
});
