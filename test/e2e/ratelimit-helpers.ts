/** Shared steps of the rate-limit end-to-end tests (ratelimit-*.test.ts). */
import type { RunningSim } from '@pixelmill/provider-sim';
import { expect } from 'vitest';
import { waitFor } from '../support/processes.js';
import { call, type Stack } from '../support/stack.js';

/** The API's JSON as the stack's `call` returns it (untyped: the tests check the contract). */
export type ApiJson = Awaited<ReturnType<typeof call>>['json'];

export interface SubmitOptions {
  priority?: 'high' | 'normal' | 'low';
  n?: number;
  tag?: string;
}

/** Submits `count` items (tiny simulated images) and returns the batch id. */
export async function submit(
  stack: Stack,
  apiKey: string,
  model: string,
  count: number,
  opts: SubmitOptions = {},
): Promise<string> {
  const tag = opts.tag ?? 'item';
  const res = await call(stack, apiKey, 'POST', '/v1/batches', {
    model,
    ...(opts.priority ? { priority: opts.priority } : {}),
    items: Array.from({ length: count }, (_, i) => ({
      custom_id: `${tag}-${i}`,
      prompt: `[sim:32x32] ${tag} product shot ${i}`,
      size: '1K',
      ...(opts.n ? { n: opts.n } : {}),
    })),
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.id as string;
}

export async function getBatch(stack: Stack, apiKey: string, id: string): Promise<ApiJson> {
  const res = await call(stack, apiKey, 'GET', `/v1/batches/${id}`);
  expect(res.status).toBe(200);
  return res.json;
}

export async function waitCompleted(
  stack: Stack,
  apiKey: string,
  id: string,
  timeoutMs = 120_000,
): Promise<ApiJson> {
  return waitFor(
    `batch ${id} to complete`,
    async () => {
      const b = await getBatch(stack, apiKey, id);
      return b.status === 'completed' ? b : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

export async function listItems(stack: Stack, apiKey: string, id: string): Promise<ApiJson[]> {
  const res = await call(stack, apiKey, 'GET', `/v1/batches/${id}/items?limit=1000`);
  expect(res.status).toBe(200);
  return res.json.data as ApiJson[];
}

/** Requests the simulator received with this API key, by HTTP status. */
export function simStatuses(sim: RunningSim, key: string): Record<string, number> {
  return sim.stats().byKey[key]?.byStatus ?? {};
}

export function simRequests(sim: RunningSim, key: string): number {
  return sim.stats().byKey[key]?.requests ?? 0;
}

/** Free key checks (model listings) the simulator answered for this key, and how many it refused. */
export function simKeyChecks(sim: RunningSim, key: string): { requests: number; refused: number } {
  return sim.stats().keyChecks[key] ?? { requests: 0, refused: 0 };
}

/** The model entry of GET /v1/models. */
export async function modelInfo(stack: Stack, apiKey: string, model: string): Promise<ApiJson> {
  const res = await call(stack, apiKey, 'GET', '/v1/models');
  expect(res.status).toBe(200);
  const found = (res.json.data as ApiJson[]).find((m) => m.id === model);
  expect(found, `model ${model} listed`).toBeDefined();
  return found;
}
