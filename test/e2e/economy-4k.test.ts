import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { watchPeakGrowth } from '../support/memory.js';
import { errorLines, waitFor } from '../support/processes.js';
import { allItems, call, type Stack, startStack } from '../support/stack.js';

/**
 * A results file of 1,000 4K images streamed with flat worker memory (issue 15): one economy batch of
 * 1,000 items at Gemini's 4K tier (16:9: 4096×2304) in a single provider job. Each image is padded
 * (`[sim-pad]`, a PNG chunk decoders skip) to a few hundred kB, so the results file is several times
 * the memory bound: a worker that read it whole, or ran ahead of its uploads, would break the bound.
 * All items share one picture (`[duplicate:…]`, distinct bytes per image) so the simulator encodes
 * one 4K picture, not 1,000.
 */
const ITEMS = 1000;
const PAD_KB = 300;
/** The target for the worker's resident set growth while unpacking. */
const RSS_BOUND_MB = 150;
const WIDTH = 4096;
const HEIGHT = 2304;

const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [sim-gemini-4k]
    models:
      - id: gemini-3.1-flash-image
        timeout_s: 60
`;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    workers: 1,
    config,
    sim: { batch: { completionMs: 300 } },
    env: {
      PIXELMILL_ECONOMY_JOB_SIZE: String(ITEMS),
      PIXELMILL_MAX_ITEMS_PER_BATCH: String(ITEMS),
      WORKER_ECONOMY_POLL_MIN_MS: '200',
      WORKER_ECONOMY_POLL_MAX_MS: '500',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

async function submit(count: number, tag: string): Promise<string> {
  const r = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
    model: 'gemini-3.1-flash-image',
    mode: 'economy',
    defaults: { size: '4K', aspect_ratio: '16:9' },
    items: Array.from({ length: count }, (_, i) => ({
      custom_id: `${tag}-${i}`,
      prompt: `Catalog item ${i}, studio shot on white [duplicate:${tag}] [sim-pad:${PAD_KB}]`,
    })),
  });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json.id;
}

// biome-ignore lint/suspicious/noExplicitAny: API JSON
async function completed(batchId: string, onPoll: () => void): Promise<any> {
  return waitFor(
    `batch ${batchId} to complete`,
    async () => {
      onPoll();
      const r = await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}`);
      return r.json.status === 'completed' ? r.json : undefined;
    },
    { timeoutMs: 300_000, intervalMs: 200 },
  );
}

test('a results file of 1,000 4K images is stored with the worker resident set growing less than 150 MB', {
  timeout: 360_000,
}, async () => {
  const worker = stack.workers[0]!;
  // Warm-up: the worker's first images load sharp, the S3 client and QA; that is not unpacking.
  await completed(await submit(4, 'warm'), () => {});

  const memory = watchPeakGrowth(worker.child.pid!);
  const id = await submit(ITEMS, 'big');
  const batch = await completed(id, memory.sample);
  const growthMb = memory.growthMb();

  const jobs = (
    (await (await fetch(`${stack.sim.url}/__batches`)).json()) as Array<{
      display_name: string;
      lines: number;
    }>
  ).filter((j) => j.display_name.includes(id));
  expect(jobs.map((j) => j.lines)).toEqual([ITEMS]);
  expect(batch.counts.succeeded).toBe(ITEMS);

  const items = await allItems(stack, stack.apiKey, id);
  expect(items).toHaveLength(ITEMS);
  expect(items.every((i) => i.lane === 'economy' && i.outputs.length === 1)).toBe(true);
  // The results file really was big: every image carried its padding (base64 adds a third on the wire).
  const storedMb = items.reduce((sum, i) => sum + i.outputs[0].bytes, 0) / 1024 / 1024;
  expect(storedMb).toBeGreaterThan((ITEMS * PAD_KB) / 1024);
  expect(new Set(items.map((i) => i.outputs[0].sha256)).size).toBe(ITEMS);

  // Some outputs fetched back: bytes by hash, decoded dimensions, a thumbnail.
  for (const k of [0, 333, 999]) {
    const out = items.find((i) => i.custom_id === `big-${k}`).outputs[0];
    const bytes = Buffer.from(await (await fetch(out.url)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(out.sha256);
    const png = PNG.sync.read(bytes);
    expect([png.width, png.height]).toEqual([WIDTH, HEIGHT]);
    expect([out.width, out.height]).toEqual([WIDTH, HEIGHT]);
    expect(out.thumbnail_key).toBeTruthy();
  }

  process.stdout.write(
    `economy 4K: ${ITEMS} images, ${storedMb.toFixed(0)} MB stored, worker RSS ${memory.baselineMb.toFixed(0)} MB + ${growthMb.toFixed(0)} MB peak growth, makespan ${((Date.parse(batch.completed_at) - Date.parse(batch.created_at)) / 1000).toFixed(1)} s\n`,
  );
  expect(growthMb).toBeLessThan(RSS_BOUND_MB);
  expect(errorLines(worker)).toEqual([]);
});
