/**
 * Limits per provider + model + key, end to end: declared limits reach every worker through Redis,
 * a 429 with a retry hint cools the key for all workers (no 429 storm), and a key out of credit is
 * parked after one request and never used again while the other key serves every item.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import {
  type ApiJson,
  listItems,
  modelInfo,
  simRequests,
  simStatuses,
  submit,
  waitCompleted,
} from './ratelimit-helpers.js';

const WINDOW_MS = 2_000;
/** Requests per window the simulator allows the Gemini key, and what pixelmill declares for it. */
const GEMINI_LIMIT = 4;

const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [rl-gemini-1]
    models:
      - id: gemini-3.1-flash-image
        rpm: ${GEMINI_LIMIT}
        concurrency: 8
        timeout_s: 30
  - name: openai
    kind: openai-images
    base_url: "{{SIM_URL}}/v1"
    api_keys: [rl-oa-depleted, rl-oa-good]
    models:
      - id: gpt-image-1-mini
        rpm: 600
        ipm: 450
        concurrency: 6
        timeout_s: 30
`;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    workers: 2,
    config,
    sim: {
      latencyMs: { min: 20, max: 80 },
      windowMs: WINDOW_MS,
      limits: { 'rl-gemini-1': { rpm: GEMINI_LIMIT } },
      depletedKeys: ['rl-oa-depleted'],
    },
    env: { PIXELMILL_RATE_WINDOW_MS: String(WINDOW_MS) },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('limits per provider, model and key', () => {
  test('declared rpm, ipm and concurrency reach Redis per key; GET /v1/models shows keys only as hashes', async () => {
    const model = await modelInfo(stack, stack.apiKey, 'gpt-image-1-mini');
    expect(model.rate_limits.circuit).toBe('closed');
    expect(model.rate_limits.keys).toHaveLength(2);
    for (const key of model.rate_limits.keys) {
      expect(key).toMatchObject({
        configured: true,
        // The worker's window is the declared one plus a guard of 0.25 %, at least 25 ms (resources.ts).
        window_ms: WINDOW_MS + 25,
        rpm: 600,
        effective_rpm: 600,
        ipm: 450,
        concurrency: 6,
        in_flight: 0,
        parked: false,
        cooldown_until: null,
      });
      expect(key.key_id).toMatch(/^[0-9a-f]{10}$/);
    }
    const res = await fetch(`${stack.apiUrl}/v1/models`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    const text = await res.text();
    expect(text).not.toContain('rl-oa-');
    expect(text).not.toContain('rl-gemini-');
  });

  test('a 429 with RetryInfo cools the key for every worker: one burst of 429s, then none', async () => {
    // Another client of the same key has just used the whole window: pixelmill cannot know, so its
    // first requests get 429 with a RetryInfo hint.
    const direct = await Promise.all(
      Array.from({ length: GEMINI_LIMIT }, (_, i) =>
        fetch(`${stack.sim.url}/v1beta/models/gemini-3.1-flash-image:generateContent`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-goog-api-key': 'rl-gemini-1' },
          body: JSON.stringify({ contents: [{ parts: [{ text: `[sim:8x8] other client ${i}` }] }] }),
        }),
      ),
    );
    expect(direct.map((r) => r.status)).toEqual(Array(GEMINI_LIMIT).fill(200));

    const items = 12;
    const batchId = await submit(stack, stack.apiKey, 'gemini-3.1-flash-image', items, { tag: 'cool' });
    const done = await waitCompleted(stack, stack.apiKey, batchId);
    expect(done.counts.succeeded).toBe(items);

    const statuses = simStatuses(stack.sim, 'rl-gemini-1');
    const limited = statuses['429'] ?? 0;
    // The first burst (at most what pixelmill's own limiter let out in one window) meets the other
    // client's window; the hint then holds every worker back until the window frees.
    expect(limited).toBeGreaterThan(0);
    expect(limited).toBeLessThanOrEqual(GEMINI_LIMIT);
    expect(statuses['200']).toBe(GEMINI_LIMIT + items);
    // And pixelmill never put more into any window than the simulator allows.
    expect(stack.sim.stats().byKey['rl-gemini-1']?.maxWindowUse).toBeLessThanOrEqual(GEMINI_LIMIT);
  });

  test('a key out of credit is parked after one request; the other key serves every item', async () => {
    // Both keys are idle, so the first request goes to the first key listed: the depleted one.
    const first = await submit(stack, stack.apiKey, 'gpt-image-1-mini', 1, { tag: 'quota-first' });
    expect((await waitCompleted(stack, stack.apiKey, first)).counts.succeeded).toBe(1);
    expect(simRequests(stack.sim, 'rl-oa-depleted')).toBe(1);

    const batchId = await submit(stack, stack.apiKey, 'gpt-image-1-mini', 20, { tag: 'quota' });
    const done = await waitCompleted(stack, stack.apiKey, batchId);
    expect(done.counts).toMatchObject({ total: 20, succeeded: 20, failed: 0 });
    const items = await listItems(stack, stack.apiKey, batchId);
    expect(items.every((i) => i.status === 'succeeded' && i.outputs.length === 1)).toBe(true);

    expect(simRequests(stack.sim, 'rl-oa-depleted')).toBe(1);
    expect(simStatuses(stack.sim, 'rl-oa-depleted')).toEqual({ '429': 1 });
    expect(simStatuses(stack.sim, 'rl-oa-good')['200']).toBe(21);

    const model = await modelInfo(stack, stack.apiKey, 'gpt-image-1-mini');
    const parked = (model.rate_limits.keys as ApiJson[]).filter((k) => k.parked);
    expect(parked).toHaveLength(1);
    expect(parked[0].parked_until).toBeNull();
  });
});
