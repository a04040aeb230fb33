/**
 * Both batch adapters against @pixelmill/provider-sim's batch APIs over HTTP, through the registry:
 * submit, poll, stream the results, per-line errors classified like realtime answers, expiry, cancel,
 * and finding a job whose create answer was lost by its label.
 */
import { makePng, type RunningSim, startSim } from '@pixelmill/provider-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRegistry, estimateCostUsd, type ModelRegistry } from '../registry.js';
import { pngDimensions } from '../test-support/fixtures.js';
import type { ReferenceImage } from '../types.js';
import type { BatchImageModel, BatchJobStatus, BatchLine, BatchLineResult } from './types.js';

let sim: RunningSim;
let registry: ModelRegistry;

beforeAll(async () => {
  sim = await startSim({ seed: 11, batch: { completionMs: 200 } });
  registry = buildRegistry({
    providers: [
      {
        name: 'sim-gemini',
        kind: 'gemini',
        base_url: sim.url,
        api_keys: ['g'],
        models: [{ id: 'gemini-3.1-flash-image' }],
      },
      {
        name: 'sim-openai',
        kind: 'openai-images',
        base_url: `${sim.url}/v1`,
        api_keys: ['o'],
        models: [{ id: 'gpt-image-2' }],
      },
      {
        name: 'sim-router',
        kind: 'openai-chat',
        base_url: sim.url,
        api_keys: ['r'],
        models: [{ id: 'router-image', upstream_id: 'google/gemini-3-pro-image-preview' }],
      },
    ],
  });
});
afterAll(() => sim.close());

const config = (batch: Record<string, number>) =>
  fetch(`${sim.url}/__config`, { method: 'POST', body: JSON.stringify({ batch }) });

async function settle(adapter: BatchImageModel, key: string, id: string): Promise<BatchJobStatus> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const status = await adapter.get(key, id);
    if (!['pending', 'running'].includes(status.state)) return status;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${status.state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function collect(adapter: BatchImageModel, key: string, status: BatchJobStatus) {
  const out = new Map<string, BatchLineResult>();
  for await (const r of adapter.results(key, status)) out.set(r.key, r);
  return out;
}

const cases = [
  { name: 'Gemini', model: 'gemini-3.1-flash-image', key: 'g', n: 1 },
  { name: 'OpenAI', model: 'gpt-image-2', key: 'o', n: 2 },
] as const;

describe.each(cases)('$name batch adapter', ({ model, key, n }) => {
  const spec = () => registry.resolve(model)!;
  const adapter = () => registry.batchAdapter(spec())!;
  const line = (k: string, prompt: string, referenceImages: ReferenceImage[] = []): BatchLine => ({
    key: k,
    prompt,
    size: '1K',
    aspectRatio: '1:1',
    n,
    referenceImages,
  });

  it('sends reference images with their lines (Gemini inline, OpenAI uploaded and run as edits)', async () => {
    const ref = (seed: string): ReferenceImage => ({ bytes: makePng(24, 24, seed), mimeType: 'image/png' });
    const label = `pm-${model}-refs`;
    const job = await adapter().submit({
      upstreamModel: spec().upstreamId,
      apiKey: key,
      label,
      lines: [
        line('r1', 'shoe on a rock [sim:16x16]', [ref('shoe'), ref('rock')]),
        line('r2', 'shoe on sand [sim:16x16]', [ref('shoe')]),
      ],
    });
    const ended = await settle(adapter(), key, job.id);
    expect(ended.state).toBe('succeeded');
    const results = await collect(adapter(), key, ended);
    expect([...results.values()].every((r) => 'images' in r)).toBe(true);
    const jobs = (await (await fetch(`${sim.url}/__batches`)).json()) as Array<{
      id: string;
      reference_images: number;
    }>;
    expect(jobs.find((j) => j.id === job.id)?.reference_images).toBe(3);
    if (model !== 'gpt-image-2') {
      // Gemini deletes uploads by itself (48 h): nothing for pixelmill to delete.
      expect(job.inputFiles).toEqual([]);
      return;
    }
    // OpenAI: the input and the two distinct references were uploaded with a 7-day expiry, and
    // are deleted with the results once stored; a file already gone counts as deleted.
    const files = async () =>
      (await (
        await fetch(`${sim.url}/v1/files`, { headers: { authorization: `Bearer ${key}` } })
      ).json()) as {
        data: Array<{ id: string; created_at: number; expires_at: number | null; purpose: string }>;
      };
    const uploads = (await files()).data.filter((f) => job.inputFiles.includes(f.id));
    expect(uploads.map((f) => f.purpose).sort()).toEqual(['batch', 'vision', 'vision']);
    for (const f of uploads) expect(f.expires_at! - f.created_at).toBe(7 * 24 * 3600);
    const ids = [...job.inputFiles, ...ended.resultFiles];
    expect(await adapter().deleteFiles!(key, ids)).toEqual({ deleted: ids.length, failed: [] });
    expect((await files()).data.filter((f) => ids.includes(f.id))).toEqual([]);
    expect(await adapter().deleteFiles!(key, ids)).toEqual({ deleted: ids.length, failed: [] });
  });

  it('submits, polls and streams images and classified per-line errors', async () => {
    const label = `pm-${model}-ok`;
    const job = await adapter().submit({
      upstreamModel: spec().upstreamId,
      apiKey: key,
      label,
      lines: [line('a', 'teapot [sim:40x30]'), line('b', 'forbidden thing'), line('c', 'cup [sim:20x20]')],
    });
    expect(job.label).toBe(label);
    const ended = await settle(adapter(), key, job.id);
    expect(ended.state).toBe('succeeded');
    expect(ended.total).toBe(3);
    const results = await collect(adapter(), key, ended);
    expect([...results.keys()].sort()).toEqual(['a', 'b', 'c']);
    const a = results.get('a')!;
    expect('images' in a && a.images.map((i) => pngDimensions(i.bytes))).toEqual(
      Array.from({ length: n }, () => ({ width: 40, height: 30 })),
    );
    const b = results.get('b')!;
    expect('error' in b && [b.error.code, b.error.retryable]).toEqual(['content_blocked', false]);
  });

  it('an expired job yields only the lines that finished', async () => {
    await config({ completionMs: 400, expireAfterMs: 200 });
    let id: string;
    try {
      const lines = Array.from({ length: 6 }, (_, i) => line(`e${i}`, `p${i} [sim:8x8]`));
      id = (
        await adapter().submit({
          upstreamModel: spec().upstreamId,
          apiKey: key,
          label: `pm-${model}-exp`,
          lines,
        })
      ).id;
    } finally {
      await config({ completionMs: 200, expireAfterMs: 0 });
    }
    const ended = await settle(adapter(), key, id);
    expect(ended.state).toBe('expired');
    expect([...(await collect(adapter(), key, ended)).keys()]).toEqual(['e0', 'e1', 'e2']);
  });

  it('a create whose answer was lost is found by its label; cancel ends it', async () => {
    await config({ createLostRate: 1, completionMs: 60_000 });
    const label = `pm-${model}-lost`;
    try {
      await expect(
        adapter().submit({
          upstreamModel: spec().upstreamId,
          apiKey: key,
          label,
          lines: [line('x', 'p [sim:8x8]')],
        }),
      ).rejects.toMatchObject({ name: 'ProviderError', retryable: true });
    } finally {
      await config({ createLostRate: 0, completionMs: 200 });
    }
    const orphan = await adapter().findByLabel(key, label);
    expect(orphan?.label).toBe(label);
    expect(await adapter().findByLabel(key, 'pm-never-made')).toBeUndefined();
    await adapter().cancel(key, orphan!.id);
    expect((await settle(adapter(), key, orphan!.id)).state).toBe('cancelled');
  });
});

describe('registry economy lane', () => {
  it('openai-chat models have none; gemini and openai-images models have one at batch prices', () => {
    const router = registry.resolve('router-image')!;
    expect(router.economy).toBe(false);
    expect(registry.batchAdapter(router)).toBeUndefined();
    const flash = registry.resolve('gemini-3.1-flash-image')!;
    expect(flash.economy).toBe(true);
    expect(estimateCostUsd(flash, '1K', 2, 'economy')).toBe(0.068);
    expect(estimateCostUsd(flash, '1K', 2)).toBe(0.134);
    const gpt = registry.resolve('gpt-image-2')!;
    expect(gpt.batchPriceUsd['1K']).toBe(0.1055);
  });

  it('refuses economy: true on an openai-chat model', () => {
    expect(() =>
      buildRegistry({
        providers: [{ name: 'r', kind: 'openai-chat', api_keys: [], models: [{ id: 'x', economy: true }] }],
      }),
    ).toThrow(/no batch API/);
  });
});
