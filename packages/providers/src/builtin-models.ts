/**
 * The built-in catalogue: providers read from the environment and the models pixelmill knows,
 * with capabilities from providers.md §2 and prices from §6 (as of late 2026). Ids move: retired
 * ids stay here as aliases of their successor so old batches keep working.
 * @module
 */
import type { ModelSpec, ProviderSpec } from './model-spec.js';
import { openAiSizeMode } from './openai-images-size.js';
import type { ProviderKind, Size } from './types.js';

export const DEFAULT_BASE_URLS: Record<ProviderKind, string> = {
  gemini: 'https://generativelanguage.googleapis.com',
  'openai-images': 'https://api.openai.com/v1',
  'openai-chat': 'https://openrouter.ai/api/v1',
};

const ASPECTS_10 = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'];
/** gemini-3.1-flash-image and nano-banana-2.1 add the extreme banners. */
const ASPECTS_14 = [...ASPECTS_10, '1:4', '4:1', '1:8', '8:1'];
const ALL_TIERS: Size[] = ['1K', '2K', '4K'];

const SECONDS = 1000;
/** Gemini 2K/4K can take ~1 min; no proxy should cut earlier (providers.md §7: ≥ 300 s). */
const GEMINI_TIMEOUT_MS = 300 * SECONDS;
/** gpt-image-2 high quality: median 195 s, p95 ~280 s (providers.md §7: ≥ 600 s). */
const OPENAI_TIMEOUT_MS = 600 * SECONDS;

type Capabilities = Omit<
  ModelSpec,
  'id' | 'aliases' | 'provider' | 'kind' | 'upstreamId' | 'fallback' | 'economy' | 'batchPriceUsd'
>;

/** Both batch APIs sell at 50 % of the realtime price (providers.md §3, §3b). */
export const BATCH_DISCOUNT = 0.5;

/** Half of each realtime price, rounded to micro-dollars: where providers.md §6 lists no batch price. */
export function halfPrice(price: Partial<Record<Size, number>>): Partial<Record<Size, number>> {
  return Object.fromEntries(
    Object.entries(price).map(([size, usd]) => [size, Math.round(usd * BATCH_DISCOUNT * 1e6) / 1e6]),
  );
}

/** Whether a kind has a batch API for images: OpenRouter's batch API is text-only (providers.md §3b). */
export const kindHasEconomy = (kind: ProviderKind): boolean => kind !== 'openai-chat';

/** What a model the catalogue does not know gets, per kind: conservative, overridable in config. */
export function kindDefaults(kind: ProviderKind, upstreamId: string): Capabilities {
  switch (kind) {
    case 'gemini':
      return {
        sizes: ALL_TIERS,
        aspectRatios: ASPECTS_10,
        maxReferenceImages: 14,
        maxImagesPerCall: 1,
        sendImageSize: true,
        priceUsd: {},
        limits: { rpm: 10, concurrency: 4 },
        timeoutMs: GEMINI_TIMEOUT_MS,
      };
    case 'openai-images':
      return {
        // gpt-image-1.x only has ~1K sizes; later models take any WxH (see openai-images-size.ts).
        sizes: openAiSizeMode(upstreamId) === 'fixed' ? ['1K'] : ALL_TIERS,
        aspectRatios: ASPECTS_10,
        maxReferenceImages: 16,
        maxImagesPerCall: 10,
        sendImageSize: false,
        priceUsd: {},
        limits: { ipm: 5, concurrency: 4 },
        timeoutMs: OPENAI_TIMEOUT_MS,
      };
    case 'openai-chat':
      return {
        sizes: ALL_TIERS,
        aspectRatios: ASPECTS_10,
        maxReferenceImages: 4,
        maxImagesPerCall: 1,
        sendImageSize: true,
        priceUsd: {},
        limits: { rpm: 20, concurrency: 4 },
        timeoutMs: GEMINI_TIMEOUT_MS,
      };
  }
}

const GEMINI_3_PRO_PRICE = { '1K': 0.134, '2K': 0.134, '4K': 0.24 };
const GEMINI_31_FLASH_PRICE = { '512': 0.045, '1K': 0.067, '2K': 0.101, '4K': 0.151 };
/**
 * GPT image 2.x is priced by tokens ($30/M image out); per image, at quality high (we send no quality
 * and the default `auto` tends to high), the largest size of the tier. 1K: [3p] $0.211 for 1024².
 * 2K/4K are [unv] extrapolations by pixel count (2048² ≈ 4×, 8.3 MP ≈ 7.9×). 2.5 and 2.6 share the
 * token rates of 2 ([3p] APIYI launch note).
 */
const GPT_IMAGE_2_PRICE = { '1K': 0.211, '2K': 0.84, '4K': 1.67 };

/** providers.md §6 batch column: gemini-3-pro-image and 3.1-flash-image are listed; others are half. */
const GEMINI_3_PRO_BATCH = { '1K': 0.067, '2K': 0.067, '4K': 0.12 };
const GEMINI_31_FLASH_BATCH = { '512': 0.022, '1K': 0.034, '2K': 0.05, '4K': 0.076 };

function gemini(
  id: string,
  aliases: string[],
  caps: Partial<Capabilities> & { batchPriceUsd?: ModelSpec['batchPriceUsd'] },
  fallback: string[] = [],
): ModelSpec {
  const spec: ModelSpec = {
    id,
    aliases,
    provider: 'gemini',
    kind: 'gemini',
    upstreamId: id,
    fallback,
    economy: true,
    batchPriceUsd: {},
    ...kindDefaults('gemini', id),
    ...caps,
  };
  return { ...spec, batchPriceUsd: caps.batchPriceUsd ?? halfPrice(spec.priceUsd) };
}

function openai(id: string, aliases: string[], caps: Partial<Capabilities>): ModelSpec {
  const spec = { id, aliases, provider: 'openai', upstreamId: id, fallback: [], economy: true };
  const defaults = kindDefaults('openai-images', id);
  const priceUsd = caps.priceUsd ?? defaults.priceUsd;
  return { ...spec, kind: 'openai-images', ...defaults, ...caps, batchPriceUsd: halfPrice(priceUsd) };
}

function openrouter(
  id: string,
  upstreamId: string,
  caps: Partial<Capabilities>,
  fallback: string[] = [],
): ModelSpec {
  const spec = { id, aliases: [upstreamId], provider: 'openrouter', upstreamId, fallback };
  const lane = { economy: false, batchPriceUsd: {} };
  return { ...spec, ...lane, kind: 'openai-chat', ...kindDefaults('openai-chat', upstreamId), ...caps };
}

export const BUILTIN_MODELS: readonly ModelSpec[] = [
  // Gemini native. Limits are per Google Cloud project and no longer published: conservative Tier 1.
  gemini(
    'gemini-3-pro-image',
    ['gemini-3-pro-image-preview', 'nano-banana-pro', 'nano-banana-pro-preview'],
    {
      sizes: ALL_TIERS,
      priceUsd: GEMINI_3_PRO_PRICE,
      batchPriceUsd: GEMINI_3_PRO_BATCH,
      limits: { rpm: 20, concurrency: 8 },
    },
    ['gemini-3.1-flash-image'],
  ),
  gemini('gemini-3.1-flash-image', ['gemini-3.1-flash-image-preview', 'nano-banana-2'], {
    sizes: ['512', ...ALL_TIERS],
    aspectRatios: ASPECTS_14,
    priceUsd: GEMINI_31_FLASH_PRICE,
    batchPriceUsd: GEMINI_31_FLASH_BATCH,
    limits: { rpm: 30, concurrency: 10 },
  }),
  // Batch price [unv]: half the realtime price, like every batch price the providers publish.
  gemini('gemini-nano-banana-2.1', ['nano-banana-2.1'], {
    aspectRatios: ASPECTS_14,
    priceUsd: { '1K': 0.0336, '2K': 0.0504, '4K': 0.113 },
    limits: { rpm: 20, concurrency: 8 },
  }),
  // Shutdown listed for 2026-10-02 "earliest": once gone it answers 404 (config_error, scope model)
  // and the worker falls back to its successor.
  gemini(
    'gemini-2.5-flash-image',
    ['nano-banana', 'gemini-2.5-flash-image-preview'],
    {
      sizes: ['1K'],
      sendImageSize: false,
      maxReferenceImages: 3,
      priceUsd: { '1K': 0.039 },
      batchPriceUsd: { '1K': 0.0195 },
    },
    ['gemini-3.1-flash-image'],
  ),
  // 1K only, so imageSize is not sent; references and price are [unv].
  gemini('gemini-3.1-flash-lite-image', [], {
    sizes: ['1K'],
    sendImageSize: false,
    maxReferenceImages: 3,
    limits: { rpm: 30, concurrency: 8 },
  }),

  // OpenAI Images. Tier 1 is 5 images per minute ([3p]); raise ipm in config for higher tiers.
  openai('gpt-image-2', [], { priceUsd: GPT_IMAGE_2_PRICE }),
  // gpt-image-1 was shut down on 2026-10-23; Sunburst is the quality/editing variant, the closer
  // match for product shots (Flare is the fast one).
  openai('gpt-image-2.5-sunburst', ['gpt-image-1'], { priceUsd: GPT_IMAGE_2_PRICE }),
  openai('gpt-image-2.5-flare', [], { priceUsd: GPT_IMAGE_2_PRICE }),
  openai('gpt-image-2.6-sunburst', [], { priceUsd: GPT_IMAGE_2_PRICE }), // price [unv]
  openai('gpt-image-2.6-flare', [], { priceUsd: GPT_IMAGE_2_PRICE }), // price [unv]
  // Fixed 1024²/1536 sizes. Prices at high quality, 1536 size: 1.5 [unv] ≈ $0.20; mini [3p] ≈ $0.05
  // (1024² $0.0333 scaled like gpt-image-1's 1536 sizes).
  openai('gpt-image-1.5', [], { priceUsd: { '1K': 0.2 } }),
  openai('gpt-image-1-mini', [], { priceUsd: { '1K': 0.05 } }),
  // Moving alias of ChatGPT's current model: fixed sizes are the safe subset; price [unv].
  openai('chatgpt-image-latest', [], { priceUsd: { '1K': 0.211 } }),

  // OpenRouter (OpenAI-compatible chat). Slugs keep -preview and map upstream; limits are per account.
  openrouter(
    'openrouter/gemini-3-pro-image',
    'google/gemini-3-pro-image-preview',
    { maxReferenceImages: 14, priceUsd: GEMINI_3_PRO_PRICE, limits: { rpm: 20, concurrency: 8 } },
    ['openrouter/gemini-3.1-flash-image'],
  ),
  openrouter('openrouter/gemini-3.1-flash-image', 'google/gemini-3.1-flash-image-preview', {
    sizes: ['512', ...ALL_TIERS],
    aspectRatios: ASPECTS_14,
    maxReferenceImages: 14,
    priceUsd: GEMINI_31_FLASH_PRICE,
    limits: { rpm: 30, concurrency: 8 },
  }),
  openrouter('openrouter/gemini-2.5-flash-image', 'google/gemini-2.5-flash-image', {
    sizes: ['1K'],
    sendImageSize: false,
    maxReferenceImages: 3,
    priceUsd: { '1K': 0.039 },
  }),
];

/** Comma-separated keys, blanks dropped (an unset `${VAR}` interpolates to ''). */
export function splitKeys(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

/** Built-in providers with keys and base URLs from the environment (api.md "Configuration"). */
export function builtinProviders(env: Record<string, string | undefined>): ProviderSpec[] {
  const base = (value: string | undefined, kind: ProviderKind) =>
    value === undefined || value.trim() === '' ? DEFAULT_BASE_URLS[kind] : value.trim();
  return [
    {
      name: 'gemini',
      kind: 'gemini',
      baseUrl: base(env.GEMINI_BASE_URL, 'gemini'),
      apiKeys: splitKeys(env.GEMINI_API_KEY),
    },
    {
      name: 'openai',
      kind: 'openai-images',
      baseUrl: base(env.OPENAI_BASE_URL, 'openai-images'),
      apiKeys: splitKeys(env.OPENAI_API_KEY),
    },
    {
      name: 'openrouter',
      kind: 'openai-chat',
      baseUrl: base(env.OPENROUTER_BASE_URL, 'openai-chat'),
      apiKeys: splitKeys(env.OPENROUTER_API_KEY),
    },
  ];
}
