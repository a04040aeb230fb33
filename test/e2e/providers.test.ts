import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import { call, type Stack, startStack } from '../support/stack.js';

/** All three wire formats at once, each through its real adapter, against one simulator over HTTP. */
const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [sim-gemini-1]
    models:
      - id: gemini-3.1-flash-image
        timeout_s: 30
  - name: openai
    kind: openai-images
    base_url: "{{SIM_URL}}/v1"
    api_keys: [sim-openai-1]
    models:
      - id: gpt-image-2
        timeout_s: 30
        ipm: 600
  - name: openrouter
    kind: openai-chat
    base_url: "{{SIM_URL}}/api/v1"
    api_keys: [sim-openrouter-1]
    models:
      - id: openrouter/gemini-3-pro-image
        timeout_s: 30
`;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ workers: 1, config, sim: { latencyMs: { min: 10, max: 50 } } });
});

afterAll(async () => {
  await stack?.stop();
});

const models = ['gemini-3.1-flash-image', 'gpt-image-2', 'openrouter/gemini-3-pro-image'] as const;

describe('one deployment, three providers', () => {
  test('batches on Gemini, OpenAI Images and OpenRouter complete side by side', async () => {
    const ids: Record<string, string> = {};
    for (const model of models) {
      const r = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
        model,
        defaults: { size: '1K', aspect_ratio: '4:3' },
        items: Array.from({ length: 4 }, (_, i) => ({
          custom_id: `p${i}`,
          prompt: `Product shot ${i} for ${model}`,
          n: i === 3 ? 2 : 1,
        })),
      });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      ids[model] = r.json.id;
    }
    for (const model of models) {
      const batch = await waitFor(
        `${model} batch to complete`,
        async () => {
          const r = await call(stack, stack.apiKey, 'GET', `/v1/batches/${ids[model]}`);
          return r.json.status === 'completed' ? r.json : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      );
      expect(batch.counts.succeeded, model).toBe(4);
      expect(batch.images.generated).toBe(5);
      expect(batch.cost.actual_usd).toBeCloseTo(batch.cost.estimated_usd, 6);
      const items = await call(stack, stack.apiKey, 'GET', `/v1/batches/${ids[model]}/items`);
      for (const item of items.json.data) {
        expect(item.provider).toBe(
          model === 'gpt-image-2' ? 'openai' : model.startsWith('openrouter') ? 'openrouter' : 'gemini',
        );
        for (const out of item.outputs) {
          const bytes = Buffer.from(await (await fetch(out.url)).arrayBuffer());
          expect(createHash('sha256').update(bytes).digest('hex')).toBe(out.sha256);
          const png = PNG.sync.read(bytes);
          expect(png.width).toBeGreaterThan(png.height);
          expect([png.width, png.height]).toEqual([out.width, out.height]);
        }
      }
    }
    // Every request reached the simulator through the right wire format and key.
    const stats = stack.sim.stats();
    for (const key of ['sim-gemini-1', 'sim-openai-1', 'sim-openrouter-1']) {
      expect(stats.byKey[key]?.byStatus['200'] ?? 0, key).toBeGreaterThan(0);
    }
  });
});
