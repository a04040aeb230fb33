/**
 * One model's throttling never delays another model's items (one queue per model), and an item
 * that cannot get capacity before the item deadline fails with `timeout` instead of waiting forever.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { type ApiJson, getBatch, listItems, submit, waitCompleted } from './ratelimit-helpers.js';

const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [iso-key-1]
    models:
      - id: sim-throttled
        rpm: 0.1                # one request per 10 minutes
        concurrency: 4
        timeout_s: 10
      - id: sim-free
        rpm: 600
        concurrency: 8
        timeout_s: 10
`;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    workers: 2,
    config,
    sim: { latencyMs: { min: 10, max: 40 } },
    env: { WORKER_ITEM_DEADLINE_MS: '5000' },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('isolation of a throttled model, and the item deadline', () => {
  test("a throttled model's backlog does not delay another model's items; its waiting items time out", async () => {
    const throttled = await submit(stack, stack.apiKey, 'sim-throttled', 4, { tag: 'slow' });
    const free = await submit(stack, stack.apiKey, 'sim-free', 10, { tag: 'fast' });

    const freeDone = await waitCompleted(stack, stack.apiKey, free);
    expect(freeDone.counts.succeeded).toBe(10);
    // Still waiting for capacity: one request per 10 minutes let at most one item through.
    const meanwhile = await getBatch(stack, stack.apiKey, throttled);
    expect(meanwhile.counts.succeeded).toBeLessThanOrEqual(1);
    expect(meanwhile.status).not.toBe('completed');

    const done = await waitCompleted(stack, stack.apiKey, throttled, 60_000);
    expect(done.counts).toMatchObject({ succeeded: 1, failed: 3 });
    const failed = (await listItems(stack, stack.apiKey, throttled)).filter(
      (i: ApiJson) => i.status === 'failed',
    );
    for (const item of failed) {
      expect(item.error.code).toBe('timeout');
      // Waiting for the limiter never spent an attempt.
      expect(item.attempts).toBe(0);
    }
  });
});
