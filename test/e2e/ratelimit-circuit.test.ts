/**
 * A model that keeps failing (5xx) opens its circuit: its items wait without failing and resume
 * after a half-open probe succeeds; a model with fallbacks moves its items to the first usable
 * one instead (also when all its keys are out of quota), and every output names the model that
 * made it.
 */
import { type RunningSim, startSim } from '@pixelmill/provider-sim';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import { type Stack, startStack } from '../support/stack.js';
import {
  type ApiJson,
  getBatch,
  listItems,
  modelInfo,
  simRequests,
  simStatuses,
  submit,
  waitCompleted,
} from './ratelimit-helpers.js';

let down: RunningSim;
let stack: Stack;

const config = (downUrl: string) => `
providers:
  - name: flaky
    kind: gemini
    base_url: "${downUrl}"
    api_keys: [cb-flaky-1]
    models:
      - id: sim-outage
        rpm: 600
        concurrency: 4
        timeout_s: 10
      - id: sim-outage-fb
        rpm: 600
        concurrency: 4
        timeout_s: 10
        fallback: [sim-healthy]
  - name: broke
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [cb-broke-1]
    models:
      - id: sim-broke
        rpm: 600
        concurrency: 4
        timeout_s: 10
        fallback: [sim-healthy]
  - name: healthy
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [cb-healthy-1]
    models:
      - id: sim-healthy
        rpm: 600
        concurrency: 8
        timeout_s: 10
`;

beforeAll(async () => {
  // A second simulator stands for a provider in an outage: every request answers 503.
  down = await startSim({ seed: 7, faults: { http5xx: 1 }, latencyMs: { min: 5, max: 20 } });
  stack = await startStack({
    workers: 2,
    config: config(down.url),
    sim: { latencyMs: { min: 10, max: 40 }, depletedKeys: ['cb-broke-1'] },
    env: {
      WORKER_CIRCUIT_FAILURES: '3',
      WORKER_CIRCUIT_OPEN_MS: '1000',
      WORKER_ITEM_ATTEMPTS: '4',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await down?.close();
});

describe('circuit breaker per model and fallback models', () => {
  test('an open circuit makes items wait instead of failing; a successful probe closes it', async () => {
    const batchId = await submit(stack, stack.apiKey, 'sim-outage', 8, { tag: 'outage' });
    await waitFor('the circuit of sim-outage to open', async () => {
      const m = await modelInfo(stack, stack.apiKey, 'sim-outage');
      return m.rate_limits.circuit === 'open' ? true : undefined;
    });
    // Let the outage last several open periods, each ending in one failed probe.
    const atOpen = simRequests(down, 'cb-flaky-1');
    await waitFor('two failed half-open probes', () =>
      simRequests(down, 'cb-flaky-1') >= atOpen + 2 ? true : undefined,
    );
    // Another model's items are not held up by this model's open circuit.
    const other = await submit(stack, stack.apiKey, 'sim-healthy', 5, { tag: 'beside-outage' });
    expect((await waitCompleted(stack, stack.apiKey, other)).counts.succeeded).toBe(5);
    const during = await getBatch(stack, stack.apiKey, batchId);
    expect(during.counts.failed).toBe(0);
    expect(during.counts.succeeded).toBe(0);

    // The provider recovers: the next probe succeeds and closes the circuit; every item then runs.
    await fetch(`${down.url}/__config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ faults: { http5xx: 0 } }),
    });
    const done = await waitCompleted(stack, stack.apiKey, batchId);
    expect(done.counts).toMatchObject({ succeeded: 8, failed: 0 });
    expect((await modelInfo(stack, stack.apiKey, 'sim-outage')).rate_limits.circuit).toBe('closed');
    // Calls during the outage: the failures that opened it and one probe per half-open period, not
    // every item's every attempt (8 × 4 = 32).
    const failed = simStatuses(down, 'cb-flaky-1')['503'] ?? 0;
    expect(failed).toBeLessThan(8 * 4);
    const items = await listItems(stack, stack.apiKey, batchId);
    expect(items.every((i: ApiJson) => i.outputs[0].model === 'sim-outage')).toBe(true);

    await fetch(`${down.url}/__config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ faults: { http5xx: 1 } }),
    });
  });

  test('items of a failing model with a fallback move to it; outputs name the fallback', async () => {
    const batchId = await submit(stack, stack.apiKey, 'sim-outage-fb', 10, { tag: 'fallback' });
    const done = await waitCompleted(stack, stack.apiKey, batchId);
    expect(done.counts).toMatchObject({ succeeded: 10, failed: 0 });
    expect(done.model).toBe('sim-outage-fb');
    const items = await listItems(stack, stack.apiKey, batchId);
    for (const item of items) {
      expect(item.model).toBe('sim-outage-fb');
      expect(item.outputs).toHaveLength(1);
      expect(item.outputs[0].model).toBe('sim-healthy');
      expect(item.provider).toBe('healthy');
    }
    expect((await modelInfo(stack, stack.apiKey, 'sim-outage-fb')).rate_limits.circuit).not.toBe('closed');
  });

  test('items of a model whose only key is out of credit move to the fallback after one request', async () => {
    const batchId = await submit(stack, stack.apiKey, 'sim-broke', 10, { tag: 'broke' });
    const done = await waitCompleted(stack, stack.apiKey, batchId);
    expect(done.counts).toMatchObject({ succeeded: 10, failed: 0 });
    const items = await listItems(stack, stack.apiKey, batchId);
    expect(items.every((i: ApiJson) => i.outputs[0].model === 'sim-healthy')).toBe(true);
    // Several workers may call the key at once before the first answer parks it; never after.
    const calls = simRequests(stack.sim, 'cb-broke-1');
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(simStatuses(stack.sim, 'cb-broke-1')).toEqual({ '429': calls });
    const model = await modelInfo(stack, stack.apiKey, 'sim-broke');
    expect(model.rate_limits.keys[0]).toMatchObject({ parked: true, parked_until: null });
    const again = await submit(stack, stack.apiKey, 'sim-broke', 3, { tag: 'broke-again' });
    expect((await waitCompleted(stack, stack.apiKey, again)).counts.succeeded).toBe(3);
    expect(simRequests(stack.sim, 'cb-broke-1')).toBe(calls);
  });
});
