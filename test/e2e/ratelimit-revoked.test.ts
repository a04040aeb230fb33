/**
 * Key scope end to end: a key the provider refuses as invalid or revoked (Gemini 400
 * API_KEY_INVALID, OpenAI 401 invalid_api_key) leaves the rotation of every model of its provider
 * after at most one call per worker process, without failing an item or spending an attempt; it is
 * shown in GET /v1/models and /metrics, with one warning line. With every key refused, items wait
 * and fail at the item deadline with config_error, or move to their fallback model.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import { type Stack, startStack } from '../support/stack.js';
import {
  type ApiJson,
  listItems,
  modelInfo,
  simKeyChecks,
  simRequests,
  submit,
  waitCompleted,
} from './ratelimit-helpers.js';

const WORKERS = 2;
const DEADLINE_MS = 40_000;

const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [rk-gemini-good, rk-gemini-revoked]
    models:
      - id: gemini-3.1-flash-image
        rpm: 600
        concurrency: 8
        timeout_s: 30
      - id: gemini-3-pro-image
        rpm: 600
        concurrency: 8
        timeout_s: 30
  - name: openai
    kind: openai-images
    base_url: "{{SIM_URL}}/v1"
    api_keys: [rk-oa-revoked, rk-oa-good]
    models:
      - id: gpt-image-1-mini
        rpm: 600
        ipm: 450
        concurrency: 6
        timeout_s: 30
  - name: dead
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [rk-dead-1, rk-dead-2]
    models:
      - id: sim-dead
        rpm: 600
        timeout_s: 30
      - id: sim-dead-with-fallback
        upstream_id: sim-dead
        rpm: 600
        timeout_s: 30
        fallback: [gemini-3.1-flash-image]
`;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    workers: WORKERS,
    config,
    sim: {
      latencyMs: { min: 20, max: 80 },
      revokedKeys: ['rk-gemini-revoked', 'rk-oa-revoked', 'rk-dead-1', 'rk-dead-2'],
    },
    env: { WORKER_ITEM_DEADLINE_MS: String(DEADLINE_MS), WORKER_METRICS_PORT: '0' },
    startTimeoutMs: 240_000,
  });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

/** Every JSON log line of the workers. */
function workerLogs(): ApiJson[] {
  return stack.workers.flatMap((w) =>
    w
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as ApiJson),
  );
}

const revocationWarnings = (provider: string) =>
  workerLogs().filter((l) => l.level === 40 && l.provider === provider && /out of rotation/.test(l.msg));

async function revokedGauge(provider: string): Promise<number[]> {
  const ports = workerLogs()
    .filter((l) => l.msg === 'worker started')
    .map((l) => l.metrics_port as number);
  expect(ports).toHaveLength(WORKERS);
  return Promise.all(
    ports.map(async (port) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`pixelmill_provider_keys_revoked{provider="${provider}"}`));
      return Number(line?.split(' ').pop());
    }),
  );
}

function revokedKeyIds(model: ApiJson): string[] {
  return (model.rate_limits.keys as ApiJson[]).filter((k) => k.revoked).map((k) => k.key_id);
}

describe('a key refused as invalid or revoked', () => {
  test('Gemini [good, revoked]: every item succeeds on the good key; the revoked one gets a free key check per worker at most and no image call', async () => {
    const flash = await submit(stack, stack.apiKey, 'gemini-3.1-flash-image', 40, { tag: 'g-flash' });
    const pro = await submit(stack, stack.apiKey, 'gemini-3-pro-image', 10, { tag: 'g-pro' });
    await waitCompleted(stack, stack.apiKey, flash);
    await waitCompleted(stack, stack.apiKey, pro);
    const errors = [
      ...(await listItems(stack, stack.apiKey, flash)),
      ...(await listItems(stack, stack.apiKey, pro)),
    ]
      .filter((i) => i.status !== 'succeeded')
      .map((i) => i.error);
    expect(errors).toEqual([]);

    expect(simRequests(stack.sim, 'rk-gemini-revoked')).toBe(0);
    const checks = simKeyChecks(stack.sim, 'rk-gemini-revoked');
    expect(checks.requests).toBeGreaterThanOrEqual(1);
    expect(checks.requests).toBeLessThanOrEqual(WORKERS);
    expect(checks.refused).toBe(checks.requests);
    // No attempt spent: every item succeeded on its first attempt's budget, none retried as failed.
    const items = await listItems(stack, stack.apiKey, flash);
    expect(items.every((i) => i.status === 'succeeded' && i.outputs.length === 1)).toBe(true);

    // Out of rotation for both models of the provider, shown by hash only.
    const flashInfo = await modelInfo(stack, stack.apiKey, 'gemini-3.1-flash-image');
    const proInfo = await modelInfo(stack, stack.apiKey, 'gemini-3-pro-image');
    expect(revokedKeyIds(flashInfo)).toHaveLength(1);
    expect(revokedKeyIds(proInfo)).toEqual(revokedKeyIds(flashInfo));
    const revoked = (flashInfo.rate_limits.keys as ApiJson[]).find((k) => k.revoked);
    expect(Date.parse(revoked.revoked_until)).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(await revokedGauge('gemini')).toEqual(Array(WORKERS).fill(1));
    expect(revocationWarnings('gemini')).toHaveLength(1);
    expect(JSON.stringify(revocationWarnings('gemini'))).not.toContain('rk-gemini');
  });

  test('OpenAI [revoked, good]: every item succeeds; the revoked key gets a free key check per worker at most and no image call', async () => {
    const batch = await submit(stack, stack.apiKey, 'gpt-image-1-mini', 20, { tag: 'oa' });
    expect((await waitCompleted(stack, stack.apiKey, batch)).counts).toMatchObject({
      succeeded: 20,
      failed: 0,
    });
    expect(simRequests(stack.sim, 'rk-oa-revoked')).toBe(0);
    const checks = simKeyChecks(stack.sim, 'rk-oa-revoked');
    expect(checks.requests).toBeGreaterThanOrEqual(1);
    expect(checks.requests).toBeLessThanOrEqual(WORKERS);
    expect(checks.refused).toBe(checks.requests);
    expect(revokedKeyIds(await modelInfo(stack, stack.apiKey, 'gpt-image-1-mini'))).toHaveLength(1);
    expect(await revokedGauge('openai')).toEqual(Array(WORKERS).fill(1));
    expect(revocationWarnings('openai')).toHaveLength(1);
  });

  test('every key refused: items wait and fail at the deadline with config_error, or move to their fallback', async () => {
    const started = Date.now();
    const stuck = await submit(stack, stack.apiKey, 'sim-dead', 3, { tag: 'dead' });
    const moved = await submit(stack, stack.apiKey, 'sim-dead-with-fallback', 3, { tag: 'moved' });

    const fallen = await waitCompleted(stack, stack.apiKey, moved);
    expect(fallen.counts).toMatchObject({ succeeded: 3, failed: 0 });
    const movedItems = await listItems(stack, stack.apiKey, moved);
    expect(movedItems.flatMap((i) => i.outputs.map((o: ApiJson) => o.model))).toEqual(
      Array(3).fill('gemini-3.1-flash-image'),
    );

    const done = await waitCompleted(stack, stack.apiKey, stuck, DEADLINE_MS + 60_000);
    expect(done.counts).toMatchObject({ failed: 3, succeeded: 0 });
    // They waited for a key (the operator may fix it) until the deadline, not less.
    expect(Date.now() - started).toBeGreaterThanOrEqual(DEADLINE_MS - 1_000);
    const items = await listItems(stack, stack.apiKey, stuck);
    expect(items.map((i) => i.error?.code)).toEqual(['config_error', 'config_error', 'config_error']);

    for (const key of ['rk-dead-1', 'rk-dead-2']) {
      expect(simRequests(stack.sim, key)).toBe(0);
      expect(simKeyChecks(stack.sim, key).requests).toBeLessThanOrEqual(WORKERS);
    }
    expect(revokedKeyIds(await modelInfo(stack, stack.apiKey, 'sim-dead'))).toHaveLength(2);
    expect(await revokedGauge('dead')).toEqual(Array(WORKERS).fill(2));
    expect(revocationWarnings('dead')).toHaveLength(2);
  });

  test('a healthy run with refused keys logs no error-level line', async () => {
    const errors = workerLogs().filter((l) => l.level >= 50);
    expect(errors, JSON.stringify(errors.slice(0, 3))).toEqual([]);
    await waitFor('api logs', () => stack.api.output() || undefined);
    expect(
      stack.api
        .output()
        .split('\n')
        .filter((l) => l.includes('"level":50')),
    ).toEqual([]);
  });
});
