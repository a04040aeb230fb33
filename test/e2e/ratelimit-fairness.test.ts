/**
 * Fair share on one model's queue: a small batch submitted after a big batch of another tenant
 * finishes long before it (no FIFO starvation), and within a tenant a high-priority batch overtakes
 * a low-priority backlog.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import { type Stack, startStack } from '../support/stack.js';
import { getBatch, submit, waitCompleted } from './ratelimit-helpers.js';

const MODEL = 'gemini-3.1-flash-image';

const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [rl-fair-1]
    models:
      - id: ${MODEL}
        rpm: 10
        concurrency: 3
        timeout_s: 30
`;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    workers: 2,
    config,
    sim: { latencyMs: { min: 50, max: 150 } },
    // 10 requests per second: slow enough that a FIFO queue would make the small batch wait for all.
    env: { PIXELMILL_RATE_WINDOW_MS: '1000' },
  });
});

afterAll(async () => {
  await stack?.stop();
});

async function waitSucceeded(apiKey: string, batchId: string, atLeast: number): Promise<void> {
  await waitFor(`${atLeast} items of ${batchId} to succeed`, async () =>
    (await getBatch(stack, apiKey, batchId)).counts.succeeded >= atLeast ? true : undefined,
  );
}

describe('fair share between tenants and priorities', () => {
  test('a later 6-item batch of another tenant is not queued behind an 80-item batch', async () => {
    const big = await submit(stack, stack.apiKey, MODEL, 80, { tag: 'big' });
    await waitSucceeded(stack.apiKey, big, 5);

    const small = await submit(stack, stack.otherApiKey, MODEL, 6, { tag: 'small' });
    const smallDone = await waitCompleted(stack, stack.otherApiKey, small);
    const bigAtThatTime = await getBatch(stack, stack.apiKey, big);
    expect(smallDone.counts.succeeded).toBe(6);
    // Served side by side (one of each per round), not after the 75 items still ahead of it.
    expect(bigAtThatTime.counts.succeeded).toBeLessThan(40);
    expect((await waitCompleted(stack, stack.apiKey, big)).counts.succeeded).toBe(80);
  });

  test('within a tenant, a later high-priority batch overtakes a low-priority backlog', async () => {
    const low = await submit(stack, stack.apiKey, MODEL, 40, { tag: 'low', priority: 'low' });
    await waitSucceeded(stack.apiKey, low, 3);

    const high = await submit(stack, stack.apiKey, MODEL, 5, { tag: 'high', priority: 'high' });
    const highDone = await waitCompleted(stack, stack.apiKey, high);
    const lowAtThatTime = await getBatch(stack, stack.apiKey, low);
    expect(highDone.counts.succeeded).toBe(5);
    // A FIFO queue would finish all 40 first. Here the low items already picked up by workers (a few
    // per process wait for the limiter, see candidate-gate.ts) go first, then high ones win 4:1.
    expect(lowAtThatTime.counts.succeeded).toBeLessThan(30);
    expect((await waitCompleted(stack, stack.apiKey, low)).counts.succeeded).toBe(40);
  });
});
