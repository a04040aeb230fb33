import { randomUUID } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { queuePrefix } from '../queues.js';
import { useTestRedis } from '../test-support/index.js';
import { createFairScheduler, type FairFlow, type FairScheduler } from './fair-queue.js';

const env = useTestRedis('core-fair-queue');
const { prefix } = env;
const opened: { close(): Promise<void> }[] = [];

afterAll(async () => {
  await Promise.all(opened.map((o) => o.close()));
});

/** A real queue and a worker that takes jobs one at a time, as a worker process would. */
function setup(opts: Parameters<typeof createFairScheduler>[1] = {}) {
  const { redis } = env;
  const name = `q-${randomUUID().slice(0, 8)}`;
  const connection = { host: redis.options.host, port: redis.options.port };
  // As the product's queues: tagged by name, so fairStart-8.lua's keys share one slot.
  const queue = new Queue(name, { connection, prefix: queuePrefix(prefix, name) });
  const worker = new Worker(name, null, { connection, prefix: queuePrefix(prefix, name), autorun: false });
  opened.push(queue, worker);
  const fair = createFairScheduler(redis, opts);
  const token = randomUUID();
  /** Takes the next job in the queue's order, marks it started for the scheduler and completes it. */
  const serve = async (count: number): Promise<string[]> => {
    const served: string[] = [];
    for (let i = 0; i < count; i++) {
      const job = (await worker.getNextJob(token, { block: false })) as Job | undefined;
      if (!job) break;
      await fair.started(queue, job.id!);
      await job.moveToCompleted('ok', token, false);
      served.push(String(job.data.id));
    }
    return served;
  };
  const add = (fs: FairScheduler, flow: FairFlow, tag: string, count: number) =>
    fs.addBulk(
      queue,
      flow,
      Array.from({ length: count }, (_, i) => ({ name: 'j', data: { id: `${tag}${i}` } })),
    );
  return { queue, fair, serve, add };
}

const normal = (tenant: string): FairFlow => ({ tenant, priority: 'normal' });

describe('start-time fair queuing on BullMQ priorities', () => {
  it('interleaves a late small flow with a big backlog instead of queueing it behind', async () => {
    const { fair, serve, add } = setup();
    await add(fair, normal('acme'), 'a', 100);
    const first = await serve(20);
    expect(first).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));

    await add(fair, normal('globex'), 'b', 10);
    const next = await serve(20);
    // Equal weights: one of each per round, so the 10 small jobs are done within 20 starts.
    expect(next.filter((id) => id.startsWith('b'))).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`));
    // The backlog keeps its own order.
    const backlog = [...first, ...next, ...(await serve(200))].filter((id) => id.startsWith('a'));
    expect(backlog).toEqual(Array.from({ length: 100 }, (_, i) => `a${i}`));
  });

  it('gives priority classes weights: high before low before a normal backlog of the same tenant', async () => {
    const { fair, serve, add } = setup();
    await add(fair, normal('acme'), 'n', 40);
    await serve(5);
    await add(fair, { tenant: 'acme', priority: 'low' }, 'l', 5);
    await add(fair, { tenant: 'acme', priority: 'high' }, 'h', 5);
    const order = await serve(100);
    const lastOf = (p: string) => order.findLastIndex((id) => id.startsWith(p));
    expect(lastOf('h')).toBeLessThan(lastOf('l'));
    expect(lastOf('l')).toBeLessThan(lastOf('n'));
    // High (cost 1) against normal (cost 2) and low (cost 4): the 5 high jobs go within 9 starts.
    expect(lastOf('h')).toBeLessThan(9);
  });

  it('weighs jobs by their provider calls', async () => {
    const { fair, serve, queue } = setup();
    await fair.addBulk(
      queue,
      normal('big-items'),
      Array.from({ length: 10 }, (_, i) => ({ name: 'j', data: { id: `x${i}` }, calls: 4 })),
    );
    await fair.addBulk(
      queue,
      normal('small-items'),
      Array.from({ length: 10 }, (_, i) => ({ name: 'j', data: { id: `y${i}` }, calls: 1 })),
    );
    const order = await serve(8);
    // Four one-call jobs for every four-call job.
    expect(order.filter((id) => id.startsWith('y')).length).toBeGreaterThanOrEqual(6);
  });

  it('rebases tags before they run out of BullMQ priorities, keeping the order', async () => {
    const { fair, serve, add, queue } = setup({ rebaseAt: 40 });
    await add(fair, normal('acme'), 'a', 60);
    await serve(20); // tags 0..38: V = 38, no rebase yet
    expect((await fair.state(queue)).rebases).toBe(0);
    const before = await queue.getPrioritized(0, -1);
    await serve(1); // tag 40 reaches rebaseAt
    const state = await fair.state(queue);
    expect(state.rebases).toBe(1);
    expect(state.virtualTime).toBe(0);
    const after = await queue.getPrioritized(0, -1);
    expect(after.map((j) => j.id)).toEqual(before.slice(1).map((j) => j.id));
    // Shifted by 40 (a21's tag was 42 → priority 43 → 3).
    expect(after[0]!.priority).toBe(3);
    expect(Math.max(...after.map((j) => j.priority))).toBe(119 - 40);

    // A flow arriving after the rebase is tagged in the new frame and still interleaves.
    await add(fair, normal('globex'), 'b', 3);
    const order = await serve(6);
    expect(order.filter((id) => id.startsWith('b'))).toHaveLength(3);
  });

  it('does not rebase while jobs are being tagged and added', async () => {
    const { fair, serve, add, queue } = setup({ rebaseAt: 10 });
    await add(fair, normal('acme'), 'a', 20);
    let unblock!: () => void;
    const gate = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    // An enqueuer that has its tags but whose addBulk has not reached Redis yet.
    const slowQueue = new Proxy(queue, {
      get(target, prop, receiver) {
        if (prop === 'addBulk')
          return async (jobs: Parameters<Queue['addBulk']>[0]) => {
            await gate;
            return target.addBulk(jobs);
          };
        return Reflect.get(target, prop, receiver);
      },
    });
    const pending = fair.addBulk(slowQueue, normal('globex'), [{ name: 'j', data: { id: 'b0' } }]);
    await serve(8); // V passes 10 while the tagging lease is held
    expect((await fair.state(queue)).rebases).toBe(0);
    unblock();
    await pending;
    // b0's tag (V when it was tagged) is behind the backlog: it goes next, and its start rebases.
    expect(await serve(1)).toEqual(['b0']);
    expect((await fair.state(queue)).rebases).toBe(1);
    expect(await serve(50)).toEqual(Array.from({ length: 12 }, (_, i) => `a${i + 8}`));
  });

  it('caps priorities at the limit and keeps FIFO order past it', async () => {
    const { fair, serve, add, queue } = setup({ maxPriority: 21, rebaseAt: 1_000 });
    await add(fair, normal('acme'), 'a', 30);
    const prioritized = await queue.getPrioritized(0, -1);
    expect(Math.max(...prioritized.map((j) => j.priority))).toBe(21);
    expect(await serve(100)).toEqual(Array.from({ length: 30 }, (_, i) => `a${i}`));
  });
});
