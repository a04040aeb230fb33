import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Queues } from '../queues.js';
import { useTestRedis } from '../test-support/index.js';
import { enqueue, generateJobId, jobFor, jobIdOf, jobs, roundOfGenerateJob } from './catalog.js';

const db = useTestRedis('jobs');
const { prefix } = db;
let queues: Queues;

beforeAll(() => {
  queues = new Queues(db.redis, prefix);
});

afterAll(async () => {
  await queues.close();
});

describe('the job catalog', () => {
  test("a generation job's id gives back the retry round it was made for", () => {
    for (const round of [0, 1, 12]) expect(roundOfGenerateJob(generateJobId('item_abc', round))).toBe(round);
  });

  test('parses the payload on enqueue: a malformed job never reaches a queue', () => {
    expect(() => jobFor(jobs.finalize, { batch_id: 'b' } as never)).toThrow(/tenant_id/);
    expect(() =>
      jobFor(jobs.generate, { batch_id: 'b', item_id: 'i', tenant_id: 't', prompt: 'p' } as never),
    ).toThrow(/prompt/);
  });

  test('fills in the default options and the job id rule; per-job options win', () => {
    const data = { batch_id: 'b', item_id: 'itm', tenant_id: 't' };
    expect(jobFor(jobs.generate, data).opts).toMatchObject({ jobId: 'itm', removeOnComplete: true });
    expect(jobFor(jobs.generate, data, { round: 2 }).opts.jobId).toBe('itm-r2');
    expect(jobFor(jobs.generate, data, { options: { jobId: 'kept', attempts: 3 } }).opts).toMatchObject({
      jobId: 'kept',
      attempts: 3,
      backoff: { type: 'provider' },
    });
    expect(jobIdOf(jobs.finalize, { batch_id: 'b', tenant_id: 't' })).toBe('finalize-b');
    expect(jobIdOf(jobs.expire, { batch_id: 'b', tenant_id: 't' })).toBe('expire-b');
    expect(jobIdOf(jobs.deliver, { delivery_id: 'd', tenant_id: 't' })).toBe('d');
    expect(jobIdOf(jobs.deliver, { delivery_id: 'd', tenant_id: 't' }, 1)).toBe('d-r1');
    expect(() =>
      jobIdOf(jobs.flushItems, { batch_id: 'b', tenant_id: 't', target: 'x', mode: 'all' }),
    ).toThrow();
  });

  test('enqueue adds the job to its queue once per job id', async () => {
    const data = { batch_id: 'b1', tenant_id: 't' };
    await enqueue(queues, jobs.finalize, data);
    await enqueue(queues, jobs.finalize, data);
    const job = await queues.finalize.getJob('finalize-b1');
    expect(job?.name).toBe('finalize');
    expect(job?.data).toEqual(data);
    expect(job?.opts).toMatchObject({ attempts: 10, backoff: { type: 'exponential', delay: 1000 } });
    expect(await queues.finalize.getJobCounts('waiting')).toEqual({ waiting: 1 });

    await enqueue(
      queues,
      jobs.flushItems,
      { ...data, target: 'batch', mode: 'all' },
      { options: { delay: 60_000 } },
    );
    const [flush] = await queues.deliver.getJobs(['delayed']);
    expect(flush).toMatchObject({ name: 'flush-items', opts: { delay: 60_000, attempts: 5 } });
  });
});
