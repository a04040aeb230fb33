import { describe, expect, it } from 'vitest';
import { BUILTIN_MODELS } from './builtin-models.js';
import { type ProviderConfigEntry, providerConfigEntrySchema } from './config-schema.js';
import { buildRegistry, estimateCostUsd, RegistryError } from './registry.js';
import { PNG_1X1_BASE64 } from './test-support/fixtures.js';

const env = {
  GEMINI_API_KEY: 'g1, g2,',
  OPENAI_API_KEY: '',
  GEMINI_BASE_URL: 'https://gemini-proxy.example/',
};

describe('built-in registry', () => {
  const registry = buildRegistry({ env });

  it('resolves ids and aliases, retired preview ids included, case-insensitively', () => {
    expect(registry.resolve('gemini-3-pro-image')?.id).toBe('gemini-3-pro-image');
    expect(registry.resolve('gemini-3-pro-image-preview')?.id).toBe('gemini-3-pro-image');
    expect(registry.resolve('Nano-Banana-Pro')?.id).toBe('gemini-3-pro-image');
    expect(registry.resolve('gemini-3.1-flash-image-preview')?.id).toBe('gemini-3.1-flash-image');
    expect(registry.resolve('gpt-image-1')?.id).toBe('gpt-image-2.5-sunburst');
    expect(registry.resolve('google/gemini-3-pro-image-preview')?.id).toBe('openrouter/gemini-3-pro-image');
    expect(registry.resolve('dall-e-9')).toBeUndefined();
  });

  it('takes keys and base URLs from the environment', () => {
    expect(registry.provider('gemini')).toEqual({
      name: 'gemini',
      kind: 'gemini',
      baseUrl: 'https://gemini-proxy.example/',
      apiKeys: ['g1', 'g2'],
    });
    expect(registry.provider('openai')?.baseUrl).toBe('https://api.openai.com/v1');
    expect(registry.provider('openrouter')?.baseUrl).toBe('https://openrouter.ai/api/v1');
    const pro = registry.resolve('gemini-3-pro-image');
    const gpt = registry.resolve('gpt-image-2');
    expect(pro && registry.available(pro)).toBe(true);
    expect(gpt && registry.available(gpt)).toBe(false);
  });

  it('carries the catalogue facts (providers.md §2, §6, §7)', () => {
    const pro = registry.resolve('gemini-3-pro-image');
    expect(pro).toMatchObject({
      kind: 'gemini',
      upstreamId: 'gemini-3-pro-image',
      sizes: ['1K', '2K', '4K'],
      maxReferenceImages: 14,
      maxImagesPerCall: 1,
      sendImageSize: true,
      limits: { rpm: 20, concurrency: 8 },
      fallback: ['gemini-3.1-flash-image'],
    });
    expect(pro?.timeoutMs).toBeGreaterThanOrEqual(300_000);
    expect(registry.resolve('gemini-2.5-flash-image')).toMatchObject({ sendImageSize: false, sizes: ['1K'] });
    expect(registry.resolve('gemini-3.1-flash-image')?.sizes).toContain('512');
    const gpt2 = registry.resolve('gpt-image-2');
    expect(gpt2).toMatchObject({ kind: 'openai-images', maxImagesPerCall: 10, limits: { ipm: 5 } });
    expect(gpt2?.timeoutMs).toBeGreaterThanOrEqual(600_000);
    expect(registry.resolve('gpt-image-1.5')?.sizes).toEqual(['1K']);
  });

  it('has unique names and only known fallbacks', () => {
    expect(registry.list()).toHaveLength(BUILTIN_MODELS.length);
    for (const model of registry.list()) {
      expect(model.sizes.length).toBeGreaterThan(0);
      for (const target of model.fallback) expect(registry.resolve(target)?.id).toBe(target);
    }
  });

  it('builds one adapter per model, with the provider base URL and the model options', async () => {
    const urls: string[] = [];
    const bodies: unknown[] = [];
    const fakeFetch: typeof fetch = async (input, init) => {
      urls.push(String(input));
      bodies.push(JSON.parse(String(init?.body)));
      const image = {
        candidates: [
          { content: { parts: [{ inlineData: { mimeType: 'image/png', data: PNG_1X1_BASE64 } }] } },
        ],
      };
      return new Response(JSON.stringify(image));
    };
    const withFetch = buildRegistry({ env, fetch: fakeFetch });
    const flash25 = withFetch.resolve('nano-banana');
    if (flash25 === undefined) throw new Error('missing model');
    const adapter = withFetch.adapter(flash25);
    expect(adapter.kind).toBe('gemini');
    expect(withFetch.adapter(flash25)).toBe(adapter);
    await adapter.generate({
      upstreamModel: flash25.upstreamId,
      prompt: 'p',
      size: '1K',
      aspectRatio: '1:1',
      n: 1,
      referenceImages: [],
      apiKey: 'g1',
      timeoutMs: 1000,
    });
    expect(urls).toEqual([
      'https://gemini-proxy.example/v1beta/models/gemini-2.5-flash-image:generateContent',
    ]);
    expect(bodies[0]).toMatchObject({ generationConfig: { imageConfig: { aspectRatio: '1:1' } } });
    expect(JSON.stringify(bodies[0])).not.toContain('imageSize');
  });
});

describe('configured registry', () => {
  const providers: ProviderConfigEntry[] = [
    {
      name: 'sim-gemini',
      kind: 'gemini',
      base_url: 'http://127.0.0.1:9999',
      api_keys: ['k1', '', 'k2'],
      timeout_s: 120,
      models: [
        { id: 'gemini-3-pro-image', aliases: ['pro'], rpm: 5 },
        { id: 'gemini-3.1-flash-image', timeout_s: 30 },
      ],
    },
    {
      name: 'proxy',
      kind: 'openai-chat',
      base_url: 'https://proxy.example/v1',
      api_keys: [],
      models: [
        {
          id: 'proxy-nb-pro',
          upstream_id: 'gemini-3-pro-image-4k',
          sizes: ['4K'],
          price_usd: { '4K': 0.09 },
          fallback: ['pro'],
        },
      ],
    },
  ];
  const registry = buildRegistry({ providers });

  it('uses only the configured providers and models', () => {
    expect(registry.list().map((m) => m.id)).toEqual([
      'gemini-3-pro-image',
      'gemini-3.1-flash-image',
      'proxy-nb-pro',
    ]);
    expect(registry.provider('gemini')).toBeUndefined();
    expect(registry.provider('sim-gemini')).toMatchObject({
      baseUrl: 'http://127.0.0.1:9999',
      apiKeys: ['k1', 'k2'],
    });
  });

  it('inherits a built-in spec and overrides only the given fields', () => {
    const pro = registry.resolve('pro');
    expect(pro).toMatchObject({
      id: 'gemini-3-pro-image',
      provider: 'sim-gemini',
      aliases: ['pro'],
      sizes: ['1K', '2K', '4K'],
      priceUsd: { '1K': 0.134, '2K': 0.134, '4K': 0.24 },
      limits: { rpm: 5, concurrency: 8 },
      timeoutMs: 120_000,
      fallback: ['gemini-3.1-flash-image'],
    });
    // Aliases were replaced, so the preview id no longer resolves.
    expect(registry.resolve('gemini-3-pro-image-preview')).toBeUndefined();
    expect(registry.resolve('gemini-3.1-flash-image')?.timeoutMs).toBe(30_000);
  });

  it('defines a new model from its kind defaults', () => {
    const proxy = registry.resolve('proxy-nb-pro');
    expect(proxy).toMatchObject({
      provider: 'proxy',
      kind: 'openai-chat',
      upstreamId: 'gemini-3-pro-image-4k',
      sizes: ['4K'],
      maxImagesPerCall: 1,
      sendImageSize: true,
      fallback: ['gemini-3-pro-image'],
    });
    expect(proxy && registry.available(proxy)).toBe(false);
    expect(proxy && registry.adapter(proxy).kind).toBe('openai-chat');
  });

  it('drops inherited fallbacks to models the config does not declare', () => {
    const only = buildRegistry({
      providers: [{ ...providers[0], models: [{ id: 'gemini-3-pro-image' }] } as ProviderConfigEntry],
    });
    expect(only.resolve('gemini-3-pro-image')?.fallback).toEqual([]);
  });

  it('rejects unknown explicit fallbacks, clashing names and duplicate providers', () => {
    const base = { name: 'p', kind: 'gemini' as const, api_keys: [] as string[] };
    expect(() =>
      buildRegistry({ providers: [{ ...base, models: [{ id: 'a', fallback: ['nope'] }] }] }),
    ).toThrow(RegistryError);
    expect(() =>
      buildRegistry({
        providers: [
          {
            ...base,
            models: [
              { id: 'a', aliases: ['x'] },
              { id: 'b', aliases: ['X'] },
            ],
          },
        ],
      }),
    ).toThrow(/used by both/);
    expect(() =>
      buildRegistry({
        providers: [
          { ...base, models: [{ id: 'a' }] },
          { ...base, models: [{ id: 'b' }] },
        ],
      }),
    ).toThrow(/declared twice/);
  });
});

describe('providerConfigEntrySchema', () => {
  it('parses api.md style entries, treating a blank base_url as absent', () => {
    const parsed = providerConfigEntrySchema.parse({
      name: 'gemini',
      kind: 'gemini',
      base_url: '',
      api_keys: ['k'],
      models: [
        {
          id: 'gemini-3-pro-image',
          aliases: ['nano-banana-pro'],
          rpm: 20,
          concurrency: 8,
          timeout_s: 300,
          price_usd: { '2K': 0.134 },
        },
      ],
    });
    expect(parsed.base_url).toBeUndefined();
    expect(parsed.models[0]?.price_usd).toEqual({ '2K': 0.134 });
  });

  it('rejects unknown fields, kinds and sizes', () => {
    const entry = { name: 'g', kind: 'gemini', api_keys: [], models: [{ id: 'm' }] };
    expect(providerConfigEntrySchema.safeParse(entry).success).toBe(true);
    expect(providerConfigEntrySchema.safeParse({ ...entry, kind: 'dalle' }).success).toBe(false);
    expect(providerConfigEntrySchema.safeParse({ ...entry, models: [{ id: 'm', timeout: 3 }] }).success).toBe(
      false,
    );
    expect(
      providerConfigEntrySchema.safeParse({ ...entry, models: [{ id: 'm', sizes: ['8K'] }] }).success,
    ).toBe(false);
    expect(providerConfigEntrySchema.safeParse({ ...entry, base_url: 'ftp://x' }).success).toBe(false);
  });
});

describe('estimateCostUsd', () => {
  const registry = buildRegistry({ env: {} });
  it('multiplies the per-size price, rounded to micro-dollars', () => {
    const pro = registry.resolve('gemini-3-pro-image');
    if (pro === undefined) throw new Error('missing model');
    expect(estimateCostUsd(pro, '1K', 2)).toBe(0.268);
    expect(estimateCostUsd(pro, '4K', 3)).toBe(0.72);
    const flash = registry.resolve('gemini-3.1-flash-image');
    if (flash === undefined) throw new Error('missing model');
    expect(estimateCostUsd(flash, '512', 3)).toBe(0.135);
  });

  it('counts an unknown price as 0', () => {
    const lite = registry.resolve('gemini-3.1-flash-lite-image');
    if (lite === undefined) throw new Error('missing model');
    expect(estimateCostUsd(lite, '1K', 5)).toBe(0);
  });
});
