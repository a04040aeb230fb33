/**
 * The port every image adapter implements. The worker only sees these shapes; provider wire formats
 * stay inside the adapter files.
 * @module
 */

/** Output size tier. Each adapter maps it to what its provider accepts (imageSize, WxH, image_size). */
export type Size = '512' | '1K' | '2K' | '4K';

/** Wire protocol of a provider; several providers can share one kind (OpenRouter and proxies are 'openai-chat'). */
export type ProviderKind = 'gemini' | 'openai-images' | 'openai-chat';

export interface ReferenceImage {
  bytes: Buffer;
  mimeType: string;
}

export interface GenerateRequest {
  upstreamModel: string;
  prompt: string;
  size: Size;
  /** "W:H"; undefined lets the model choose (Gemini picks from the references). */
  aspectRatio: string | undefined;
  /** Images wanted from this one call; always ≤ the model's maxImagesPerCall. */
  n: number;
  referenceImages: ReferenceImage[];
  apiKey: string;
  /** Caller's cancellation (job cancelled, worker shutting down). */
  signal?: AbortSignal;
  /** Deadline for the whole call, downloads included. */
  timeoutMs: number;
}

export interface GeneratedImage {
  bytes: Buffer;
  mimeType: string;
}

export interface GenerateResult {
  images: GeneratedImage[];
  usage?: { inputTokens?: number; outputTokens?: number; imageTokens?: number };
  requestId?: string;
}

export interface ImageModel {
  readonly kind: ProviderKind;
  /** Resolves with at least one image, or rejects with a ProviderError (never anything else). */
  generate(req: GenerateRequest): Promise<GenerateResult>;
  /**
   * Asks the provider, at no cost, whether it accepts the key (its model listing): resolves true
   * when it does and false when this cannot tell (an error that is not about the key: a limit, a
   * network failure, an endpoint a proxy lacks); rejects with the ProviderError a refused key gets
   * from generate (`isKeyRefusal`). Adapters without one leave a new key's first image call as its
   * trial.
   */
  checkKey?(apiKey: string, timeoutMs: number): Promise<boolean>;
}
