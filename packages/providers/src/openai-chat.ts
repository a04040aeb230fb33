/**
 * OpenAI-compatible chat completions adapter for image output: OpenRouter and new-api style proxies
 * (providers.md §5). Plain fetch: the openai SDK's chat types have no `images` or `image_config`.
 * @module
 */
import { ProviderError } from '@pixelmill/core';
import { startDeadline } from './deadline.js';
import { DEFAULT_MAX_DOWNLOAD_BYTES } from './download.js';
import { joinUrl, postJson } from './http.js';
import { asNumber, asRecord, asString, type JsonRecord } from './json.js';
import { checkKeyByGet } from './key-check.js';
import { networkError } from './network-error.js';
import { openAiChatError } from './openai-chat-error.js';
import { extractChatImages } from './openai-chat-parse.js';
import type { GenerateRequest, GenerateResult, ImageModel, Size } from './types.js';

export interface OpenAiChatModelOptions {
  /** e.g. https://openrouter.ai/api/v1 (the adapter appends /chat/completions). */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Send image_config.image_size. Default true. */
  sendImageSize?: boolean;
  /** Cap for images delivered as hosted URLs; default 40 MB. */
  maxDownloadBytes?: number;
}

/** OpenRouter spells the 512 tier "0.5K" (providers.md §5). */
const IMAGE_SIZE: Record<Size, string> = { '512': '0.5K', '1K': '1K', '2K': '2K', '4K': '4K' };

export function createOpenAiChatModel(opts: OpenAiChatModelOptions): ImageModel {
  const fetchFn = opts.fetch ?? fetch;
  const sendImageSize = opts.sendImageSize ?? true;
  const maxBytes = opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;

  return {
    kind: 'openai-chat',
    async generate(req: GenerateRequest): Promise<GenerateResult> {
      if (req.n !== 1) {
        throw new ProviderError({
          code: 'config_error',
          message: `chat image models return one image per request; asked for ${req.n}`,
          retryable: false,
          scope: 'model',
        });
      }
      const deadline = startDeadline(req.timeoutMs, req.signal);
      try {
        const res = await postJson(
          fetchFn,
          joinUrl(opts.baseUrl, 'chat/completions'),
          { authorization: `Bearer ${req.apiKey}` },
          chatRequestBody(req, sendImageSize),
          deadline.signal,
        );
        if (res.status < 200 || res.status >= 300 || asRecord(asRecord(res.body)?.error) !== undefined) {
          throw openAiChatError(res.status, res.body, res.headers);
        }
        const images = await extractChatImages(res.body, {
          fetch: fetchFn,
          signal: deadline.signal,
          maxBytes,
        });
        const image = images.at(-1); // one was asked for; like Gemini, the last one is the final one
        if (image === undefined) throw openAiChatError(res.status, res.body, res.headers);
        return { images: [image], usage: usageOf(res.body), requestId: asString(asRecord(res.body)?.id) };
      } catch (err) {
        throw networkError(err, deadline.timedOut());
      }
    },

    /** OpenRouter's `GET /key` (the key's own details); a proxy without it cannot tell (404). */
    checkKey(apiKey: string, timeoutMs: number): Promise<boolean> {
      const auth = { authorization: `Bearer ${apiKey}` };
      return checkKeyByGet(fetchFn, joinUrl(opts.baseUrl, 'key'), auth, timeoutMs, openAiChatError);
    },
  };
}

/** The exact JSON sent to /chat/completions. */
function chatRequestBody(req: GenerateRequest, sendImageSize: boolean): JsonRecord {
  const imageConfig: JsonRecord = {};
  if (req.aspectRatio !== undefined) imageConfig.aspect_ratio = req.aspectRatio;
  if (sendImageSize) imageConfig.image_size = IMAGE_SIZE[req.size];
  return {
    model: req.upstreamModel,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: req.prompt },
          ...req.referenceImages.map((ref) => ({
            type: 'image_url',
            image_url: { url: `data:${ref.mimeType};base64,${ref.bytes.toString('base64')}` },
          })),
        ],
      },
    ],
    modalities: ['image', 'text'],
    ...(Object.keys(imageConfig).length > 0 ? { image_config: imageConfig } : {}),
    stream: false,
  };
}

function usageOf(body: unknown): GenerateResult['usage'] {
  const usage = asRecord(asRecord(body)?.usage);
  if (usage === undefined) return undefined;
  return {
    inputTokens: asNumber(usage.prompt_tokens),
    outputTokens: asNumber(usage.completion_tokens),
    imageTokens: asNumber(asRecord(usage.completion_tokens_details)?.image_tokens),
  };
}
