/**
 * What the registry knows about a model and a provider. Shared by the built-in catalogue, the
 * config loader and the worker (limits, timeouts, fallbacks).
 * @module
 */
import type { ProviderKind, Size } from './types.js';

export interface ModelSpec {
  /** Canonical id, unique across providers; what batches and GET /v1/models show. */
  id: string;
  aliases: string[];
  /** Name of the ProviderSpec that serves it. */
  provider: string;
  kind: ProviderKind;
  /** The id sent on the wire (e.g. OpenRouter's `google/gemini-3-pro-image-preview`). */
  upstreamId: string;
  sizes: Size[];
  aspectRatios: string[];
  maxReferenceImages: number;
  maxImagesPerCall: number;
  /** Gemini / chat: send imageSize (image_size); false where the model rejects it. */
  sendImageSize: boolean;
  /** USD per generated image by size; a missing size means "price unknown". */
  priceUsd: Partial<Record<Size, number>>;
  /** True when the provider's batch API serves this model (the economy lane); never for openai-chat. */
  economy: boolean;
  /** USD per image through the batch API, by size (providers.md §6); a missing size: price unknown. */
  batchPriceUsd: Partial<Record<Size, number>>;
  /** Per API key, shared by all worker processes. */
  limits: { rpm?: number; ipm?: number; concurrency?: number };
  timeoutMs: number;
  /** Canonical ids to try, in order, when this model cannot serve an item. */
  fallback: string[];
}

export interface ProviderSpec {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  /** Empty when no key is configured: the provider's models are listed but not available. */
  apiKeys: string[];
}
