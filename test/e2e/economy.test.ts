import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { makePng } from '@pixelmill/provider-sim';
import { generateWebhookSecret } from '@pixelmill/webhooks';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLines, waitFor } from '../support/processes.js';
import { testS3Client } from '../support/s3.js';
import { BUCKET, call, type Stack, startStack } from '../support/stack.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

/**
 * The economy lane end to end: batches in mode economy go through the simulator's Gemini and OpenAI
 * batch APIs (accelerated time), and come out exactly like realtime ones: outputs by hash and
 * dimensions, manifest, costs at batch prices, one batch.completed.
 */
const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [sim-gemini-econ]
    models:
      - id: gemini-3.1-flash-image
        timeout_s: 30
  - name: openai
    kind: openai-images
    base_url: "{{SIM_URL}}/v1"
    api_keys: [sim-openai-econ]
    models:
      - id: gpt-image-2
        timeout_s: 30
        ipm: 600
  - name: openrouter
    kind: openai-chat
    base_url: "{{SIM_URL}}/api/v1"
    api_keys: [sim-openrouter-econ]
    models:
      - id: openrouter/gemini-3-pro-image
        timeout_s: 30
`;

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
const secret = generateWebhookSecret();

beforeAll(async () => {
  stack = await startStack({
    workers: 1,
    config,
    sim: { batch: { completionMs: 800 } },
    env: {
      PIXELMILL_ECONOMY_JOB_SIZE: '3',
      WORKER_ECONOMY_POLL_MIN_MS: '100',
      WORKER_ECONOMY_POLL_MAX_MS: '400',
      WORKER_AUTO_MARGIN_MS: '3000',
    },
  });
  receiver = await startWebhookReceiver(secret);
});

afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

interface SimJob {
  id: string;
  provider: string;
  display_name: string;
  metadata: Record<string, string>;
  lines: number;
  reference_images: number;
  phase: string;
}

const simJobs = async (batchId: string): Promise<SimJob[]> => {
  const all = (await (await fetch(`${stack.sim.url}/__batches`)).json()) as SimJob[];
  return all.filter((j) => `${j.display_name}${j.metadata.pixelmill_job ?? ''}`.includes(batchId));
};

const simConfig = (batch: Record<string, number>) =>
  fetch(`${stack.sim.url}/__config`, { method: 'POST', body: JSON.stringify({ batch }) });

async function submit(model: string, items: unknown[], extra: Record<string, unknown> = {}): Promise<string> {
  const r = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
    model,
    mode: 'economy',
    defaults: { size: '1K', aspect_ratio: '4:3' },
    items,
    ...extra,
  });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  expect(r.json.mode).toBe(extra.mode ?? 'economy');
  return r.json.id;
}

async function ended(batchId: string, timeoutMs = 90_000) {
  return waitFor(
    `batch ${batchId} to end`,
    async () => {
      const r = await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}`);
      return ['completed', 'cancelled'].includes(r.json.status) ? r.json : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

// biome-ignore lint/suspicious/noExplicitAny: API JSON
async function items(batchId: string): Promise<any[]> {
  return (await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}/items?limit=100`)).json.data;
}

/** Every output's bytes: fetched back, hash and decoded dimensions match the record. */
// biome-ignore lint/suspicious/noExplicitAny: API JSON
async function verifyOutputs(item: any): Promise<void> {
  expect(item.outputs.length).toBe(item.n);
  for (const out of item.outputs) {
    const bytes = Buffer.from(await (await fetch(out.url)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(out.sha256);
    const png = PNG.sync.read(bytes);
    expect([png.width, png.height]).toEqual([out.width, out.height]);
    expect(out.thumbnail_key).toBeTruthy();
  }
}

describe('economy lane', () => {
  test('refuses economy for a model without a batch API, naming the field', async () => {
    const header = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: 'openrouter/gemini-3-pro-image',
      mode: 'economy',
      items: [{ custom_id: 'a', prompt: 'p' }],
    });
    expect(header.status).toBe(400);
    expect(header.json.error.details.map((d: { path: string }) => d.path)).toEqual(['mode']);
    const item = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: 'gemini-3.1-flash-image',
      mode: 'economy',
      items: [{ custom_id: 'a', prompt: 'p', model: 'openrouter/gemini-3-pro-image' }],
    });
    expect(item.status).toBe(400);
    expect(item.json.error.details.map((d: { path: string }) => d.path)).toEqual(['items[0].model']);
  });

  test.each([
    ['gemini-3.1-flash-image', 'gemini'],
    ['gpt-image-2', 'openai'],
  ])('%s: an economy batch completes through the %s batch API at batch prices', async (model, provider) => {
    const batchId = await submit(
      model,
      Array.from({ length: 5 }, (_, i) => ({
        custom_id: `sku-${i}`,
        prompt: `Catalog shot ${i} of ${model} [sim:64x48]`,
        n: i === 4 ? 2 : 1,
      })),
      { webhook: { url: receiver.url, secret, events: ['batch.completed'] } },
    );
    const batch = await ended(batchId);
    expect(batch.status).toBe('completed');
    expect(batch.counts.succeeded).toBe(5);
    expect(batch.images.generated).toBe(6);
    // Actual cost = estimate = the registry's batch price per image.
    const models = (await call(stack, stack.apiKey, 'GET', '/v1/models')).json.data;
    const spec = models.find((m: { id: string }) => m.id === model);
    expect(spec.economy).toBe(true);
    expect(batch.cost.estimated_usd).toBeCloseTo(6 * spec.batch_price_usd['1K'], 6);
    expect(batch.cost.actual_usd).toBeCloseTo(batch.cost.estimated_usd, 6);
    for (const item of await items(batchId)) {
      expect(item.lane).toBe('economy');
      expect(item.provider).toBe(provider);
      await verifyOutputs(item);
    }
    const manifest = await (await fetch(batch.manifest_url)).text();
    expect(manifest.trim().split('\n')).toHaveLength(5);
    // Packed 3 items a job, each job submitted once, carrying our ids; no realtime call was made.
    const jobs = await simJobs(batchId);
    expect(jobs.map((j) => j.provider)).toEqual([provider, provider]);
    expect(jobs.every((j) => j.phase === 'completed')).toBe(true);
    expect(stack.sim.stats().images).toBe(0);
    const completed = await waitFor(
      'one batch.completed',
      async () => {
        const hits = receiver.received.filter(
          (w) => w.type === 'batch.completed' && w.payload.data.id === batchId,
        );
        return hits.length > 0 ? hits : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(new Set(completed.map((w) => w.id)).size).toBe(1);
    expect(receiver.rejected).toBe(0);
    for (const service of [stack.api, ...stack.workers]) expect(errorLines(service)).toEqual([]);
  });

  test.each([
    ['gemini-3.1-flash-image', 'gemini'],
    ['gpt-image-2', 'openai'],
  ])('%s: items with reference images go through the %s batch API with them', async (model, provider) => {
    const refKey = `acme/refs/${provider}-shoe.png`;
    const s3 = testS3Client(stack.s3.endpoint);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: refKey,
        Body: makePng(40, 30, 'ref'),
        ContentType: 'image/png',
      }),
    );
    s3.destroy();
    const batchId = await submit(model, [
      { custom_id: 'with-ref', prompt: 'the shoe on a rock [sim:32x32]', reference_images: [refKey, refKey] },
      { custom_id: 'plain', prompt: 'a rock [sim:32x32]' },
      { custom_id: 'lost-ref', prompt: 'a hat [sim:32x32]', reference_images: ['acme/refs/nothing.png'] },
    ]);
    const batch = await ended(batchId);
    const byId = Object.fromEntries((await items(batchId)).map((i) => [i.custom_id, i]));
    expect(byId['with-ref']).toMatchObject({ status: 'succeeded', lane: 'economy' });
    await verifyOutputs(byId['with-ref']);
    expect(byId.plain).toMatchObject({ status: 'succeeded', lane: 'economy' });
    // A key that names nothing fails like on the realtime lane, without a provider call.
    expect(byId['lost-ref']).toMatchObject({ status: 'failed', error: { code: 'reference_image_error' } });
    expect(batch.counts).toMatchObject({ succeeded: 2, failed: 1 });
    // The items with references ran in a job of their own, which carried both references.
    const jobs = await simJobs(batchId);
    expect(jobs.map((j) => [j.lines, j.reference_images]).sort()).toEqual([
      [1, 0],
      [1, 2],
    ]);
    expect(stack.sim.stats().images).toBe(0);
    if (provider === 'openai') {
      // Nothing of the batch is left in the user's OpenAI storage: inputs, references and results
      // are deleted once the results are stored.
      const ofBatch = async () => {
        const listed = (await (
          await fetch(`${stack.sim.url}/v1/files`, { headers: { authorization: 'Bearer sim-openai-econ' } })
        ).json()) as { data: Array<{ filename: string }> };
        return listed.data.filter(
          (f) => f.filename.includes(batchId) || jobs.some((j) => f.filename.includes(j.id)),
        );
      };
      await waitFor('the batch files to be deleted at the provider', async () =>
        (await ofBatch()).length === 0 ? true : undefined,
      );
    }
  });

  test('per-line errors: a blocked prompt fails, a retryable error moves the item to realtime', async () => {
    await simConfig({ lineErrorRate: 1 });
    let retried: string;
    try {
      retried = await submit('gemini-3.1-flash-image', [{ custom_id: 'r1', prompt: 'vase [sim:32x32]' }]);
      await waitFor(
        'the job to be created',
        async () => ((await simJobs(retried)).length > 0 ? true : undefined),
        {
          timeoutMs: 30_000,
        },
      );
    } finally {
      await simConfig({ lineErrorRate: 0 });
    }
    const blocked = await submit('gpt-image-2', [
      { custom_id: 'ok', prompt: 'a plate [sim:32x32]' },
      { custom_id: 'bad', prompt: 'a forbidden plate' },
    ]);
    await ended(retried);
    const [r1] = await items(retried);
    expect(r1).toMatchObject({ status: 'succeeded', lane: 'realtime' });
    await verifyOutputs(r1);
    await ended(blocked);
    const byId = Object.fromEntries((await items(blocked)).map((i) => [i.custom_id, i]));
    expect(byId.ok.status).toBe('succeeded');
    expect(byId.bad).toMatchObject({ status: 'failed', lane: 'economy', error: { code: 'content_blocked' } });
  });

  test('an expired provider job: what finished is stored, the rest ends expired', async () => {
    await simConfig({ completionMs: 3000, expireAfterMs: 1500 });
    let batchId: string;
    try {
      batchId = await submit(
        'gpt-image-2',
        Array.from({ length: 3 }, (_, i) => ({ custom_id: `e${i}`, prompt: `bowl ${i} [sim:16x16]` })),
      );
      await waitFor(
        'the job to be created',
        async () => ((await simJobs(batchId)).length > 0 ? true : undefined),
        {
          timeoutMs: 30_000,
        },
      );
    } finally {
      await simConfig({ completionMs: 800, expireAfterMs: 0 });
    }
    const batch = await ended(batchId);
    expect(batch.counts.succeeded).toBe(1);
    expect(batch.counts.expired).toBe(2);
    const byId = Object.fromEntries((await items(batchId)).map((i) => [i.custom_id, i]));
    expect(byId.e0.status).toBe('succeeded');
    expect(byId.e2).toMatchObject({ status: 'expired', error: { code: 'expired' } });
    // Billed only what finished.
    expect(batch.cost.actual_usd).toBeCloseTo(byId.e0.cost_usd, 6);
  });

  test('cancel of the batch cancels its provider jobs', async () => {
    await simConfig({ completionMs: 120_000 });
    try {
      const batchId = await submit(
        'gemini-3.1-flash-image',
        Array.from({ length: 4 }, (_, i) => ({ custom_id: `c${i}`, prompt: `cup ${i} [sim:16x16]` })),
      );
      await waitFor(
        'both jobs to run',
        async () =>
          (await simJobs(batchId)).filter((j) => j.phase === 'running').length === 2 ? true : undefined,
        { timeoutMs: 30_000 },
      );
      const cancel = await call(stack, stack.apiKey, 'POST', `/v1/batches/${batchId}/cancel`);
      expect(cancel.status).toBe(200);
      const batch = await ended(batchId, 60_000);
      expect(batch.status).toBe('cancelled');
      expect(batch.counts.cancelled).toBe(4);
      expect((await simJobs(batchId)).map((j) => j.phase)).toEqual(['cancelled', 'cancelled']);
    } finally {
      await simConfig({ completionMs: 800 });
    }
  });

  test('kill -9 right after a provider job was created: the new worker finds it, nothing submitted twice', async () => {
    for (const w of stack.workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(stack.workers.map((w) => w.exited));
    const victim = stack.startWorker({ PIXELMILL_TEST_CRASH_AFTER_ECONOMY_SUBMIT: '1' });
    const batchId = await submit(
      'gemini-3.1-flash-image',
      Array.from({ length: 2 }, (_, i) => ({ custom_id: `k${i}`, prompt: `lamp ${i} [sim:16x16]` })),
    );
    expect(await victim.exited).toBe(null); // killed by its signal, at the crash point
    expect(victim.output()).not.toContain('provider batch job created');
    const survivor = stack.startWorker();
    const batch = await ended(batchId);
    expect(batch.counts.succeeded).toBe(2);
    const jobs = await simJobs(batchId);
    expect(jobs).toHaveLength(1);
    expect(survivor.output()).toContain('found the provider batch job an earlier run created');
    for (const item of await items(batchId)) await verifyOutputs(item);
  });

  test('kill -9 while the provider job is being polled: polling resumes, nothing submitted twice', async () => {
    for (const w of stack.workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(stack.workers.map((w) => w.exited));
    await simConfig({ completionMs: 5000 });
    let batchId: string;
    try {
      const victim = stack.startWorker({ PIXELMILL_TEST_CRASH_IN_ECONOMY_POLL: '1' });
      batchId = await submit(
        'gemini-3.1-flash-image',
        Array.from({ length: 2 }, (_, i) => ({ custom_id: `q${i}`, prompt: `shelf ${i} [sim:16x16]` })),
      );
      expect(await victim.exited).toBe(null);
      expect(victim.output()).toContain('provider batch job created');
    } finally {
      await simConfig({ completionMs: 800 });
    }
    stack.startWorker();
    const batch = await ended(batchId);
    expect(batch.counts.succeeded).toBe(2);
    expect(await simJobs(batchId)).toHaveLength(1);
    for (const item of await items(batchId)) await verifyOutputs(item);
  });

  test('kill -9 while the results are being stored: nothing lost, no image stored twice', async () => {
    for (const w of stack.workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(stack.workers.map((w) => w.exited));
    const victim = stack.startWorker({ PIXELMILL_TEST_CRASH_IN_ECONOMY_RESULTS: '1' });
    const batchId = await submit(
      'gpt-image-2',
      Array.from({ length: 3 }, (_, i) => ({ custom_id: `d${i}`, prompt: `chair ${i} [sim:16x16]`, n: 2 })),
    );
    expect(await victim.exited).toBe(null);
    const survivor = stack.startWorker();
    const batch = await ended(batchId);
    expect(batch.counts.succeeded).toBe(3);
    // Six images stored once each; the one the victim stored came back in the re-read and was dropped.
    expect(batch.images.generated).toBe(6);
    for (const item of await items(batchId)) await verifyOutputs(item);
    expect(await simJobs(batchId)).toHaveLength(1);
    expect(survivor.output()).toContain('economy result dropped');
  });

  test('auto: economy first, everything moves to realtime when the deadline needs it, before the deadline', async () => {
    await simConfig({ completionMs: 120_000 });
    try {
      // 2 images at the declared 30 rpm ≈ 4 s of realtime work + 3 s margin: the switch comes ≈ 8 s
      // before the deadline, so ≈ 7 s after acceptance the provider job is cancelled.
      const expiresAt = Date.now() + 15_000;
      const batchId = await submit(
        'gemini-3.1-flash-image',
        [0, 1].map((i) => ({ custom_id: `a${i}`, prompt: `stool ${i} [sim:16x16]` })),
        { mode: 'auto', expires_at: new Date(expiresAt).toISOString() },
      );
      await waitFor(
        'the job to run',
        async () => ((await simJobs(batchId))[0]?.phase === 'running' ? true : undefined),
        {
          timeoutMs: 10_000,
        },
      );
      const early = await items(batchId);
      expect(early.map((i) => i.lane)).toEqual(['economy', 'economy']);
      const batch = await ended(batchId, 30_000);
      expect(Date.parse(batch.completed_at)).toBeLessThan(expiresAt);
      expect(batch.counts.succeeded).toBe(2);
      for (const item of await items(batchId)) {
        expect(item.lane).toBe('realtime');
        await verifyOutputs(item);
      }
      expect((await simJobs(batchId)).map((j) => j.phase)).toEqual(['cancelled']);
    } finally {
      await simConfig({ completionMs: 800 });
    }
  });

  test('auto: an expired provider job hands its unfinished items to realtime', async () => {
    await simConfig({ completionMs: 3000, expireAfterMs: 1500 });
    let batchId: string;
    try {
      batchId = await submit(
        'gpt-image-2',
        Array.from({ length: 3 }, (_, i) => ({ custom_id: `x${i}`, prompt: `rug ${i} [sim:16x16]` })),
        { mode: 'auto', expires_at: new Date(Date.now() + 3_600_000).toISOString() },
      );
      await waitFor(
        'the job to be created',
        async () => ((await simJobs(batchId)).length > 0 ? true : undefined),
        {
          timeoutMs: 30_000,
        },
      );
    } finally {
      await simConfig({ completionMs: 800, expireAfterMs: 0 });
    }
    const batch = await ended(batchId);
    expect(batch.counts.succeeded).toBe(3);
    const lanes = Object.fromEntries((await items(batchId)).map((i) => [i.custom_id, i.lane]));
    expect(lanes).toEqual({ x0: 'economy', x1: 'realtime', x2: 'realtime' });
  });
});
