/**
 * The model registry: resolves ids and aliases to specs, knows each provider's keys and base URL,
 * and hands out one adapter per model. Built from PIXELMILL_CONFIG's providers when given, else
 * from the built-in catalogue with keys from the environment.
 * @module
 */
import { createGeminiBatchModel } from './batch/gemini-batch.js';
import { createOpenAiBatchModel } from './batch/openai-batch.js';
import type { BatchImageModel } from './batch/types.js';
import {
  BUILTIN_MODELS,
  builtinProviders,
  DEFAULT_BASE_URLS,
  halfPrice,
  kindDefaults,
  kindHasEconomy,
  splitKeys,
} from './builtin-models.js';
import type { ModelConfigEntry, ProviderConfigEntry } from './config-schema.js';
import { createGeminiModel } from './gemini.js';
import type { ModelSpec, ProviderSpec } from './model-spec.js';
import { createOpenAiChatModel } from './openai-chat.js';
import { createOpenAiImagesModel } from './openai-images.js';
import type { ImageModel, Size } from './types.js';

export interface ModelRegistry {
  /** Case-insensitive lookup by canonical id or alias. */
  resolve(idOrAlias: string): ModelSpec | undefined;
  list(): ModelSpec[];
  provider(name: string): ProviderSpec | undefined;
  /** The adapter serving this model (created once, then cached). */
  adapter(model: ModelSpec): ImageModel;
  /** The batch-API adapter of a model with an economy lane (`economy`), else undefined. */
  batchAdapter(model: ModelSpec): BatchImageModel | undefined;
  /** True when the model's provider has at least one API key. */
  available(model: ModelSpec): boolean;
}

export interface BuildRegistryInput {
  /** Parsed PIXELMILL_CONFIG `providers`; when absent the built-in catalogue is used. */
  providers?: ProviderConfigEntry[];
  /** Source of built-in keys and base URLs (GEMINI_API_KEY, ...); defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Injected into every adapter (tests, proxies). */
  fetch?: typeof fetch;
}

/** A configuration the registry cannot serve: thrown at start-up, with the fix in the message. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

export function buildRegistry(input: BuildRegistryInput = {}): ModelRegistry {
  const { providers, models, explicitFallbacks } =
    input.providers === undefined
      ? {
          providers: builtinProviders(input.env ?? process.env),
          models: [...BUILTIN_MODELS],
          explicitFallbacks: new Set<string>(),
        }
      : fromConfig(input.providers);

  const providersByName = new Map<string, ProviderSpec>();
  for (const p of providers) {
    if (providersByName.has(p.name)) throw new RegistryError(`provider "${p.name}" is declared twice`);
    providersByName.set(p.name, p);
  }
  const index = indexModels(models);
  const resolved = models.map((m) =>
    Object.freeze({ ...m, fallback: resolveFallbacks(m, index, explicitFallbacks) }),
  );
  const byName = new Map(resolved.map((m) => [m.id, m]));
  const lookup = new Map([...index].map(([name, m]) => [name, byName.get(m.id) ?? m]));
  const adapters = new Map<string, ImageModel>();
  const batchAdapters = new Map<string, BatchImageModel>();
  const providerOf = (model: ModelSpec): ProviderSpec => {
    const provider = providersByName.get(model.provider);
    if (provider === undefined)
      throw new RegistryError(`model "${model.id}" names unknown provider "${model.provider}"`);
    return provider;
  };

  return {
    resolve: (idOrAlias) => lookup.get(idOrAlias.trim().toLowerCase()),
    list: () => [...resolved],
    provider: (name) => providersByName.get(name),
    available: (model) => (providersByName.get(model.provider)?.apiKeys.length ?? 0) > 0,
    adapter(model) {
      let adapter = adapters.get(model.id);
      if (adapter === undefined) {
        adapter = createAdapter(model, providerOf(model), input.fetch);
        adapters.set(model.id, adapter);
      }
      return adapter;
    },
    batchAdapter(model) {
      if (!model.economy) return undefined;
      let adapter = batchAdapters.get(model.id);
      if (adapter === undefined) {
        adapter = createBatchAdapter(model, providerOf(model), input.fetch);
        if (adapter === undefined) return undefined;
        batchAdapters.set(model.id, adapter);
      }
      return adapter;
    },
  };
}

/** How an image is obtained: the realtime API, or the provider's batch API at its batch price. */
export type Lane = 'realtime' | 'economy';

/**
 * Expected cost in USD at the lane's price; a size without a known price counts as 0 (check
 * `priceUsd[size]` / `batchPriceUsd[size]` to tell).
 */
export function estimateCostUsd(
  model: ModelSpec,
  size: Size,
  images: number,
  lane: Lane = 'realtime',
): number {
  const price = (lane === 'economy' ? model.batchPriceUsd[size] : model.priceUsd[size]) ?? 0;
  return Math.round(price * images * 1e6) / 1e6; // micro-dollars: no 0.30000000000000004 in API output
}

function createAdapter(
  model: ModelSpec,
  provider: ProviderSpec,
  fetchFn: typeof fetch | undefined,
): ImageModel {
  const base = { baseUrl: provider.baseUrl, ...(fetchFn === undefined ? {} : { fetch: fetchFn }) };
  switch (model.kind) {
    case 'gemini':
      return createGeminiModel({ ...base, sendImageSize: model.sendImageSize });
    case 'openai-images':
      return createOpenAiImagesModel(base);
    case 'openai-chat':
      return createOpenAiChatModel({ ...base, sendImageSize: model.sendImageSize });
  }
}

function createBatchAdapter(
  model: ModelSpec,
  provider: ProviderSpec,
  fetchFn: typeof fetch | undefined,
): BatchImageModel | undefined {
  const base = { baseUrl: provider.baseUrl, ...(fetchFn === undefined ? {} : { fetch: fetchFn }) };
  switch (model.kind) {
    case 'gemini':
      return createGeminiBatchModel({ ...base, sendImageSize: model.sendImageSize });
    case 'openai-images':
      return createOpenAiBatchModel(base);
    case 'openai-chat':
      return undefined;
  }
}

function fromConfig(entries: ProviderConfigEntry[]) {
  const providers: ProviderSpec[] = [];
  const models: ModelSpec[] = [];
  const explicitFallbacks = new Set<string>();
  for (const entry of entries) {
    providers.push({
      name: entry.name,
      kind: entry.kind,
      baseUrl: entry.base_url ?? DEFAULT_BASE_URLS[entry.kind],
      apiKeys: entry.api_keys.flatMap((k) => splitKeys(k)),
    });
    for (const m of entry.models) {
      models.push(configuredModel(entry, m));
      if (m.fallback !== undefined) explicitFallbacks.add(m.id);
    }
  }
  return { providers, models, explicitFallbacks };
}

/**
 * A configured id that names a built-in model of the same kind inherits its spec and overrides only
 * the fields given; any other id is a new model with the kind's defaults.
 */
function configuredModel(entry: ProviderConfigEntry, m: ModelConfigEntry): ModelSpec {
  const builtin = BUILTIN_MODELS.find((b) => b.id === m.id && b.kind === entry.kind);
  const upstreamId = m.upstream_id ?? builtin?.upstreamId ?? m.id;
  const base: ModelSpec = builtin ?? {
    id: m.id,
    aliases: [],
    provider: entry.name,
    kind: entry.kind,
    upstreamId,
    fallback: [],
    economy: kindHasEconomy(entry.kind),
    batchPriceUsd: {},
    ...kindDefaults(entry.kind, upstreamId),
  };
  if (m.economy === true && !kindHasEconomy(entry.kind)) {
    throw new RegistryError(
      `model "${m.id}": providers of kind ${entry.kind} have no batch API for images, so economy cannot be true`,
    );
  }
  const timeoutS = m.timeout_s ?? entry.timeout_s;
  return {
    ...base,
    provider: entry.name,
    upstreamId,
    aliases: m.aliases ?? base.aliases,
    sizes: m.sizes ?? base.sizes,
    aspectRatios: m.aspect_ratios ?? base.aspectRatios,
    maxReferenceImages: m.max_reference_images ?? base.maxReferenceImages,
    maxImagesPerCall: m.max_images_per_call ?? base.maxImagesPerCall,
    sendImageSize: m.send_image_size ?? base.sendImageSize,
    priceUsd: m.price_usd ?? base.priceUsd,
    economy: m.economy ?? base.economy,
    batchPriceUsd:
      m.batch_price_usd ?? (m.price_usd === undefined ? base.batchPriceUsd : halfPrice(m.price_usd)),
    limits: {
      ...base.limits,
      ...(m.rpm === undefined ? {} : { rpm: m.rpm }),
      ...(m.ipm === undefined ? {} : { ipm: m.ipm }),
      ...(m.concurrency === undefined ? {} : { concurrency: m.concurrency }),
    },
    timeoutMs: timeoutS === undefined ? base.timeoutMs : timeoutS * 1000,
    fallback: m.fallback ?? base.fallback,
  };
}

/** Lower-cased id and alias → model; any name claimed twice is a configuration error. */
function indexModels(models: ModelSpec[]): Map<string, ModelSpec> {
  const index = new Map<string, ModelSpec>();
  for (const model of models) {
    for (const name of new Set([model.id, ...model.aliases].map((n) => n.toLowerCase()))) {
      const other = index.get(name);
      if (other !== undefined) {
        throw new RegistryError(`model name "${name}" is used by both "${other.id}" and "${model.id}"`);
      }
      index.set(name, model);
    }
  }
  return index;
}

/**
 * Fallbacks become canonical ids. One written in the config must exist; one inherited from the
 * catalogue is dropped when the config does not declare its target.
 */
function resolveFallbacks(model: ModelSpec, index: Map<string, ModelSpec>, explicit: Set<string>): string[] {
  const ids: string[] = [];
  for (const name of model.fallback) {
    const target = index.get(name.toLowerCase());
    if (target === undefined) {
      if (explicit.has(model.id))
        throw new RegistryError(`model "${model.id}" falls back to unknown model "${name}"`);
      continue;
    }
    if (target.id !== model.id && !ids.includes(target.id)) ids.push(target.id);
  }
  return ids;
}
