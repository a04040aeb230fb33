/**
 * OpenAI Images API adapter (providers.md §4) on the official SDK: `images.generate`, or
 * `images.edit` with the reference images as `image[]` files. SDK retries are off (`maxRetries: 0`):
 * they would retry even `insufficient_quota` and hide 429 hints from our limiter.
 * @module
 */
import { isKeyRefusal, isProviderError, ProviderError } from '@pixelmill/core';
import OpenAI, { APIConnectionTimeoutError, APIError, OpenAIError, toFile } from 'openai';
import { startDeadline } from './deadline.js';
import { DEFAULT_MAX_DOWNLOAD_BYTES, downloadImage } from './download.js';
import { decodeBase64Image } from './image-data.js';
import { asArray, asNumber, asRecord, asString } from './json.js';
import { networkError } from './network-error.js';
import { openAiImagesError } from './openai-images-error.js';
import { type OpenAiSizeMode, openAiImageSize, openAiSizeMode } from './openai-images-size.js';
import type { GeneratedImage, GenerateRequest, GenerateResult, ImageModel, ReferenceImage } from './types.js';

export interface OpenAiImagesModelOptions {
  /** e.g. https://api.openai.com/v1 */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Fixed (gpt-image-1.x) or free WxH sizes; default guessed from the upstream model id. */
  sizeMode?: OpenAiSizeMode;
  maxDownloadBytes?: number;
}

/** The API's own limit on `n`. */
const MAX_IMAGES_PER_CALL = 10;

export function createOpenAiImagesModel(opts: OpenAiImagesModelOptions): ImageModel {
  const fetchFn = opts.fetch ?? fetch;
  const maxBytes = opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  // One client per key: the SDK binds the key at construction and keeps its connection settings.
  const clients = new Map<string, OpenAI>();
  const clientFor = (apiKey: string): OpenAI => {
    let client = clients.get(apiKey);
    if (client === undefined) {
      client = new OpenAI({ apiKey, baseURL: opts.baseUrl, maxRetries: 0, fetch: fetchFn });
      clients.set(apiKey, client);
    }
    return client;
  };

  return {
    kind: 'openai-images',
    async generate(req: GenerateRequest): Promise<GenerateResult> {
      if (!Number.isInteger(req.n) || req.n < 1 || req.n > MAX_IMAGES_PER_CALL) {
        throw new ProviderError({
          code: 'config_error',
          message: `OpenAI Images takes n from 1 to ${MAX_IMAGES_PER_CALL}; asked for ${req.n}`,
          retryable: false,
          scope: 'model',
        });
      }
      const deadline = startDeadline(req.timeoutMs, req.signal);
      const params = {
        model: req.upstreamModel, // always sent: the API's default model is a retired one
        prompt: req.prompt,
        n: req.n,
        size: openAiImageSize(opts.sizeMode ?? openAiSizeMode(req.upstreamModel), req.size, req.aspectRatio),
      };
      const callOptions = { signal: deadline.signal, timeout: req.timeoutMs, maxRetries: 0 };
      try {
        const client = clientFor(req.apiKey);
        const { data, response, request_id } =
          req.referenceImages.length === 0
            ? await client.images.generate(params, callOptions).withResponse()
            : await client.images
                .edit({ ...params, image: await referenceFiles(req.referenceImages) }, callOptions)
                .withResponse();
        const images = await collectImages(data, { fetch: fetchFn, signal: deadline.signal, maxBytes });
        if (images.length === 0) throw openAiImagesError(response.status, data, response.headers);
        return {
          images,
          usage: usageOf(data),
          requestId: request_id ?? undefined,
        };
      } catch (err) {
        throw fromSdkError(err, deadline.timedOut());
      }
    },

    async checkKey(apiKey: string, timeoutMs: number): Promise<boolean> {
      try {
        await clientFor(apiKey).models.list({ timeout: timeoutMs, maxRetries: 0 });
        return true;
      } catch (err) {
        const error = fromSdkError(err, false);
        if (isKeyRefusal(error)) throw error;
        return false;
      }
    },
  };
}

/** SDK errors with a status go to the classifier; the rest are transport failures. */
export function fromSdkError(err: unknown, timedOut: boolean): ProviderError {
  if (isProviderError(err)) return err;
  if (err instanceof APIError && typeof err.status === 'number') {
    return openAiImagesError(err.status, { error: err.error }, err.headers);
  }
  if (err instanceof OpenAIError && !(err instanceof APIError)) {
    // Raised before any request, e.g. the constructor refusing an empty API key.
    return new ProviderError({
      code: 'config_error',
      message: err.message,
      retryable: false,
      scope: 'key',
      cause: err,
    });
  }
  return networkError(err, timedOut || err instanceof APIConnectionTimeoutError);
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

function referenceFiles(refs: ReferenceImage[]): Promise<File[]> {
  return Promise.all(
    refs.map((ref, i) =>
      toFile(ref.bytes, `reference-${i}.${EXTENSIONS[ref.mimeType] ?? 'png'}`, { type: ref.mimeType }),
    ),
  );
}

/**
 * GPT image models answer `b64_json`; `url` items (proxies, older models) are downloaded. Items that
 * do not decode to an image are dropped, so fewer than `n` images can come back.
 */
async function collectImages(
  body: unknown,
  download: { fetch: typeof fetch; signal: AbortSignal; maxBytes: number },
): Promise<GeneratedImage[]> {
  const images: GeneratedImage[] = [];
  for (const item of asArray(asRecord(body)?.data).map(asRecord)) {
    const b64 = asString(item?.b64_json);
    const url = asString(item?.url);
    const image =
      b64 !== undefined
        ? decodeBase64Image(b64)
        : url !== undefined
          ? await downloadImage(url, download)
          : undefined;
    if (image !== undefined) images.push(image);
  }
  return images;
}

function usageOf(body: unknown): GenerateResult['usage'] {
  const usage = asRecord(asRecord(body)?.usage);
  if (usage === undefined) return undefined;
  return {
    inputTokens: asNumber(usage.input_tokens),
    outputTokens: asNumber(usage.output_tokens),
    imageTokens: asNumber(asRecord(usage.output_tokens_details)?.image_tokens),
  };
}
