/**
 * @pixelmill/providers: image-model adapters behind one port (ImageModel), the model registry and
 * the per-provider error classification.
 * @module
 */

export { createGeminiBatchModel, type GeminiBatchOptions } from './batch/gemini-batch.js';
export { createOpenAiBatchModel, OPENAI_LABEL_KEY, type OpenAiBatchOptions } from './batch/openai-batch.js';
export type {
  BatchImageModel,
  BatchJobState,
  BatchJobStatus,
  BatchLine,
  BatchLineResult,
  SubmitBatchRequest,
} from './batch/types.js';
export { BATCH_DISCOUNT, BUILTIN_MODELS, DEFAULT_BASE_URLS } from './builtin-models.js';
export {
  type ModelConfigEntry,
  modelConfigEntrySchema,
  type ProviderConfigEntry,
  providerConfigEntrySchema,
} from './config-schema.js';
export { createGeminiModel, type GeminiModelOptions } from './gemini.js';
export { GEMINI_BLOCK_REASONS, geminiError } from './gemini-error.js';
export type { ModelSpec, ProviderSpec } from './model-spec.js';
export { networkError } from './network-error.js';
export { createOpenAiChatModel, type OpenAiChatModelOptions } from './openai-chat.js';
export { openAiChatError } from './openai-chat-error.js';
export { createOpenAiImagesModel, type OpenAiImagesModelOptions } from './openai-images.js';
export { openAiImagesError } from './openai-images-error.js';
export { type OpenAiSizeMode, openAiImageSize, openAiSizeMode } from './openai-images-size.js';
export { type ImageMime, sniffImageMime } from './reference-images.js';
export {
  type BuildRegistryInput,
  buildRegistry,
  estimateCostUsd,
  type Lane,
  type ModelRegistry,
  RegistryError,
} from './registry.js';
export { msUntilPacificMidnight, retryAfterFromHeaders } from './retry-hints.js';
export type {
  GeneratedImage,
  GenerateRequest,
  GenerateResult,
  ImageModel,
  ProviderKind,
  ReferenceImage,
  Size,
} from './types.js';
