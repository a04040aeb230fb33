/**
 * Each adapter against @pixelmill/provider-sim over HTTP, wired through the registry the way the
 * worker uses it: real PNGs, blocks, depleted keys and 429s with hints.
 */
import { type RunningSim, startSim } from '@pixelmill/provider-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRegistry, type ModelRegistry } from './registry.js';
import { pngDimensions } from './test-support/fixtures.js';
import { providerFailure as failure } from './test-support/provider-failure.js';
import type { GenerateRequest } from './types.js';

let sim: RunningSim;
let registry: ModelRegistry;

beforeAll(async () => {
  sim = await startSim({
    port: 0,
    seed: 7,
    depletedKeys: ['broke'],
    revokedKeys: ['revoked'],
    // One key per adapter: limits are per key, and each describe uses up its own.
    limits: { 'limited-gemini': { rpm: 1 }, 'limited-openai': { rpm: 1 }, 'limited-chat': { rpm: 1 } },
  });
  registry = buildRegistry({
    providers: [
      {
        name: 'sim-gemini',
        kind: 'gemini',
        base_url: sim.url,
        api_keys: ['good'],
        models: [{ id: 'gemini-3-pro-image' }, { id: 'gemini-2.5-flash-image' }],
      },
      {
        name: 'sim-openai',
        kind: 'openai-images',
        base_url: `${sim.url}/v1`,
        api_keys: ['good'],
        models: [{ id: 'gpt-image-2' }],
      },
      {
        name: 'sim-router',
        kind: 'openai-chat',
        base_url: `${sim.url}/v1`,
        api_keys: ['good'],
        models: [
          { id: 'router-pro', upstream_id: 'google/gemini-3-pro-image-preview' },
          { id: 'router-pro-markdown', upstream_id: 'google/gemini-3-pro-image-preview-markdown' },
          { id: 'router-pro-url', upstream_id: 'google/gemini-3-pro-image-preview-url' },
        ],
      },
    ],
  });
});
afterAll(() => sim.close());

function generate(modelId: string, over: Partial<GenerateRequest> = {}) {
  const model = registry.resolve(modelId);
  if (model === undefined) throw new Error(`unknown model ${modelId}`);
  return registry.adapter(model).generate({
    upstreamModel: model.upstreamId,
    prompt: 'Studio shot of a leather backpack',
    size: '1K',
    aspectRatio: '1:1',
    n: 1,
    referenceImages: [],
    apiKey: 'good',
    timeoutMs: 10_000,
    ...over,
  });
}

const ratioOf = (png: Buffer | undefined) => {
  if (png === undefined) throw new Error('no image');
  const { width, height } = pngDimensions(png);
  return { width, height, ratio: width / height };
};

describe('gemini adapter against the simulator', () => {
  it('returns the final PNG, not the thought draft, at the requested size and ratio', async () => {
    const result = await generate('gemini-3-pro-image', { size: '2K', aspectRatio: '16:9' });
    expect(result.images).toHaveLength(1);
    expect(result.images[0]?.mimeType).toBe('image/png');
    const { width, ratio } = ratioOf(result.images[0]?.bytes);
    expect(width).toBe(2048);
    expect(ratio).toBeCloseTo(16 / 9, 1);
    expect(result.usage?.imageTokens).toBeGreaterThan(0);
    expect(result.requestId).toBeDefined();
  });

  it('omits imageSize for gemini-2.5-flash-image (the sim rejects it) and gets its fixed 1K table', async () => {
    const result = await generate('gemini-2.5-flash-image', { aspectRatio: '16:9' });
    expect(pngDimensions(result.images[0]?.bytes ?? Buffer.alloc(24))).toEqual({ width: 1344, height: 768 });
  });

  it('maps a blocked prompt, a depleted key and a rate limit', async () => {
    expect(await failure(generate('gemini-3-pro-image', { prompt: 'something forbidden' }))).toMatchObject({
      code: 'content_blocked',
      retryable: false,
    });
    expect(await failure(generate('gemini-3-pro-image', { apiKey: 'broke' }))).toMatchObject({
      code: 'quota_exhausted',
      scope: 'provider',
    });
    await generate('gemini-3-pro-image', { apiKey: 'limited-gemini' });
    const limited = await failure(generate('gemini-3-pro-image', { apiKey: 'limited-gemini' }));
    expect(limited).toMatchObject({ code: 'rate_limited', scope: 'key' });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('openai-images adapter against the simulator', () => {
  it('generates n images at the computed WxH', async () => {
    const result = await generate('gpt-image-2', { size: '2K', aspectRatio: '3:2', n: 2 });
    expect(result.images).toHaveLength(2);
    for (const image of result.images)
      expect(pngDimensions(image.bytes)).toEqual({ width: 2048, height: 1360 });
  });

  it('edits with reference images', async () => {
    const reference = (await generate('gpt-image-2')).images[0];
    if (reference === undefined) throw new Error('no reference');
    const result = await generate('gpt-image-2', {
      referenceImages: [reference],
      prompt: 'Same mug, blue glaze',
    });
    expect(pngDimensions(result.images[0]?.bytes ?? Buffer.alloc(24))).toEqual({ width: 1024, height: 1024 });
  });

  it('maps moderation, insufficient_quota and rate_limit_exceeded with its hint', async () => {
    expect(await failure(generate('gpt-image-2', { prompt: 'forbidden' }))).toMatchObject({
      code: 'content_blocked',
    });
    expect(await failure(generate('gpt-image-2', { apiKey: 'broke' }))).toMatchObject({
      code: 'quota_exhausted',
      retryable: false,
      scope: 'provider',
    });
    await generate('gpt-image-2', { apiKey: 'limited-openai' });
    const limited = await failure(generate('gpt-image-2', { apiKey: 'limited-openai' }));
    expect(limited).toMatchObject({ code: 'rate_limited', retryable: true, scope: 'key' });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('openai-chat adapter against the simulator', () => {
  it.each(['router-pro', 'router-pro-markdown', 'router-pro-url'])('reads the image from %s', async (id) => {
    const result = await generate(id, { size: '1K', aspectRatio: '4:5' });
    expect(result.images[0]?.mimeType).toBe('image/png');
    const { height, ratio } = ratioOf(result.images[0]?.bytes);
    expect(height).toBe(1024);
    expect(ratio).toBeCloseTo(4 / 5, 1);
  });

  it('maps moderation (403), no credits (402) and a 429 with Retry-After', async () => {
    expect(await failure(generate('router-pro', { prompt: 'forbidden' }))).toMatchObject({
      code: 'content_blocked',
    });
    expect(await failure(generate('router-pro', { apiKey: 'broke' }))).toMatchObject({
      code: 'quota_exhausted',
      scope: 'provider',
    });
    await generate('router-pro', { apiKey: 'limited-chat' });
    const limited = await failure(generate('router-pro', { apiKey: 'limited-chat' }));
    expect(limited).toMatchObject({ code: 'rate_limited', scope: 'key' });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('checkKey: a key checked at no cost (the model listing)', () => {
  const adapterOf = (id: string) => registry.adapter(registry.resolve(id)!);

  it.each(['gemini-3-pro-image', 'gpt-image-2', 'router-pro'])(
    '%s: true for a key the provider accepts, the key refusal for a revoked one',
    async (id) => {
      const adapter = adapterOf(id);
      expect(await adapter.checkKey?.('good', 5_000)).toBe(true);
      const refused = await adapter.checkKey?.('revoked', 5_000).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toMatchObject({ name: 'ProviderError', code: 'config_error', scope: 'key' });
      expect(sim.stats().keyChecks.revoked?.refused).toBeGreaterThan(0);
      // Never an image call.
      expect(sim.stats().byKey.revoked).toBeUndefined();
    },
  );

  it('false when the check cannot tell (no such endpoint, nothing listening)', async () => {
    const unknown = buildRegistry({
      providers: [
        {
          name: 'no-listing',
          kind: 'openai-images',
          base_url: `${sim.url}/nothing`,
          api_keys: ['good'],
          models: [{ id: 'gpt-image-2' }],
        },
        {
          name: 'down',
          kind: 'gemini',
          base_url: 'http://127.0.0.1:9',
          api_keys: ['good'],
          models: [{ id: 'gemini-3-pro-image' }],
        },
      ],
    });
    for (const model of unknown.list())
      expect(await unknown.adapter(model).checkKey?.('good', 2_000)).toBe(false);
  });
});
