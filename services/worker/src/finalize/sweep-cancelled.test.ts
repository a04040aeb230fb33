import {
  BatchStore,
  createFairScheduler,
  generateJobId,
  itemIdFor,
  jobFor,
  jobs,
  newBatchId,
  Queues,
} from '@pixelmill/core';
import { insertFedItems, testBatchSpec, testItemSpec, useTestRedis } from '@pixelmill/core/test-support';
import { createLogger } from '@pixelmill/logger';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sweepCancelled } from './sweep-cancelled.js';

const db = useTestRedis('worker-sweep');
let store: BatchStore;
let queues: Queues;
const lines: string[] = [];
const logger = createLogger({
  name: 'sweep-test',
  destination: { write: (l: string) => void lines.push(l) },
});

beforeAll(() => {
  store = new BatchStore(db.redis, db.prefix);
  queues = new Queues(db.redis, db.prefix);
});

afterAll(async () => {
  await queues.close();
});

describe('sweep of a cancelled batch', () => {
  test("removes its cancelled items' jobs and a retried item's old one; keeps the new and the running", async () => {
    const batchId = newBatchId();
    const spec = testBatchSpec();
    const customIds = Array.from({ length: 1200 }, (_, i) => `c${i}`);
    const ids = customIds.map((c) => itemIdFor(batchId, c));
    await store.insertBatch({ id: batchId, tenantId: 'acme', spec });
    for (let i = 0; i < ids.length; i += 1000)
      await insertFedItems(
        store,
        batchId,
        'acme',
        customIds
          .slice(i, i + 1000)
          .map((c, j) => ({ id: ids[i + j] as string, spec: testItemSpec(c), where: c })),
      );
    await store.publishBatch(batchId, 'acme');
    const queue = queues.generate(spec.model);
    const add = (items: { id: string; round: number }[]) =>
      createFairScheduler(db.redis).addBulk(
        queue,
        { tenant: 'acme', priority: 'normal' },
        items.map((it) =>
          jobFor(
            jobs.generate,
            { batch_id: batchId, item_id: it.id, tenant_id: 'acme' },
            { round: it.round },
          ),
        ),
      );
    await add(ids.map((id) => ({ id, round: 0 })));
    // The last item started before the cancel: it runs on and keeps its job.
    const running = ids[ids.length - 1] as string;
    await store.startItem(batchId, running);
    await store.requestCancel(batchId);
    for (let i = 0; i < ids.length; i += 1000)
      await store.closeItems(batchId, ids.slice(i, i + 1000), 'cancelled');
    // One cancelled item is retried at once: its round-1 job must stay.
    const retried = ids[0] as string;
    const [r] = await store.retryItems(batchId, [retried], ['cancelled']);
    await add([{ id: retried, round: r?.round as number }]);

    await sweepCancelled({ store, queues, logger }, { batch_id: batchId, tenant_id: 'acme' });

    const left = (await queue.getJobs(['prioritized', 'wait'])).map((j) => j.id).sort();
    expect(left).toEqual([generateJobId(retried, 1), running].sort());
    expect((await store.getBatchInternal(batchId))?.batch.counts).toMatchObject({
      cancelled: ids.length - 2,
      queued: 1,
      running: 1,
    });
  });
});
