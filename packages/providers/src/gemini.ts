/**
 * Gemini native `generateContent` adapter (providers.md §2). Plain fetch rather than @google/genai:
 * the SDK's ApiError keeps only a stringified body, and its retries ignore RetryInfo.
 * @module
 */
import { ProviderError } from '@pixelmill/core';
import { startDeadline } from './deadline.js';
import { DEFAULT_MAX_DOWNLOAD_BYTES, downloadImage } from './download.js';
import { geminiError } from './gemini-error.js';
import { joinUrl, postJson } from './http.js';
import { decodeBase64Image, decodeDataUrl, markdownImageUrls } from './image-data.js';
import { asArray, asNumber, asRecord, asString, type JsonRecord } from './json.js';
import { checkKeyByGet } from './key-check.js';
import { networkError } from './network-error.js';
import type { GeneratedImage, GenerateRequest, GenerateResult, ImageModel } from './types.js';

export interface GeminiModelOptions {
  /** e.g. https://generativelanguage.googleapis.com (the adapter appends /v1beta/models/...). */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Send imageConfig.imageSize; false for gemini-2.5-flash-image, which rejects it. Default true. */
  sendImageSize?: boolean;
  maxDownloadBytes?: number;
}

export function createGeminiModel(opts: GeminiModelOptions): ImageModel {
  const fetchFn = opts.fetch ?? fetch;
  const sendImageSize = opts.sendImageSize ?? true;
  const maxBytes = opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;

  return {
    kind: 'gemini',
    async generate(req: GenerateRequest): Promise<GenerateResult> {
      if (req.n !== 1) {
        // Gemini makes one image per request; the worker loops (providers.md §2).
        throw new ProviderError({
          code: 'config_error',
          message: `Gemini returns one image per request; asked for ${req.n}`,
          retryable: false,
          scope: 'model',
        });
      }
      const url = joinUrl(
        opts.baseUrl,
        `v1beta/models/${encodeURIComponent(req.upstreamModel)}:generateContent`,
      );
      const deadline = startDeadline(req.timeoutMs, req.signal);
      try {
        const res = await postJson(
          fetchFn,
          url,
          { 'x-goog-api-key': req.apiKey },
          geminiRequestBody(req, sendImageSize),
          deadline.signal,
        );
        if (res.status < 200 || res.status >= 300) throw geminiError(res.status, res.body, res.headers);
        const image = await lastImage(res.body, { fetch: fetchFn, signal: deadline.signal, maxBytes });
        if (image === undefined) throw geminiError(res.status, res.body, res.headers);
        return {
          images: [image],
          usage: usageOf(res.body),
          requestId: asString(asRecord(res.body)?.responseId),
        };
      } catch (err) {
        throw networkError(err, deadline.timedOut());
      }
    },

    /** The model listing (`GET /v1beta/models`), which needs the key and costs nothing. */
    checkKey(apiKey: string, timeoutMs: number): Promise<boolean> {
      const url = joinUrl(opts.baseUrl, 'v1beta/models?pageSize=1');
      return checkKeyByGet(fetchFn, url, { 'x-goog-api-key': apiKey }, timeoutMs, geminiError);
    },
  };
}

/** The exact JSON sent to generateContent. */
export function geminiRequestBody(req: GenerateRequest, sendImageSize: boolean): JsonRecord {
  const imageConfig: JsonRecord = {};
  if (req.aspectRatio !== undefined) imageConfig.aspectRatio = req.aspectRatio;
  if (sendImageSize) imageConfig.imageSize = req.size;
  const parts: JsonRecord[] = [
    { text: req.prompt },
    ...req.referenceImages.map((ref) => ({
      inlineData: { mimeType: ref.mimeType, data: ref.bytes.toString('base64') },
    })),
  ];
  return {
    contents: [{ role: 'user', parts }],
    generationConfig: {
      // TEXT as well as IMAGE: image-only output is refused by some models and proxies, and the text
      // explains a missing image.
      responseModalities: ['TEXT', 'IMAGE'],
      ...(Object.keys(imageConfig).length > 0 ? { imageConfig } : {}),
    },
  };
}

/**
 * The image of a 200 answer. Gemini 3 models "think" and may emit draft images as `thought: true`
 * parts: those are skipped and the LAST non-thought image is the answer (providers.md §2); we asked
 * for one image, so returning several would over-deliver. Proxies on the native path sometimes send
 * snake_case fields or a markdown image inside a text part, read as a fallback.
 */
export async function lastImage(
  body: unknown,
  download: { fetch: typeof fetch; signal: AbortSignal; maxBytes: number },
): Promise<GeneratedImage | undefined> {
  const parts = asArray(asRecord(asRecord(asArray(asRecord(body)?.candidates)[0])?.content)?.parts)
    .map(asRecord)
    .filter((p) => p !== undefined && p.thought !== true) as JsonRecord[];

  for (const part of [...parts].reverse()) {
    const inline = asRecord(part.inlineData ?? part.inline_data);
    const data = asString(inline?.data);
    const image = data === undefined ? undefined : decodeBase64Image(data);
    if (image !== undefined) return image;
  }
  const text = parts.map((p) => asString(p.text) ?? '').join('\n');
  const { dataUrls, httpUrls } = markdownImageUrls(text);
  for (const dataUrl of dataUrls.reverse()) {
    const image = decodeDataUrl(dataUrl);
    if (image !== undefined) return image;
  }
  const lastUrl = httpUrls.at(-1);
  return lastUrl === undefined ? undefined : downloadImage(lastUrl, download);
}

function usageOf(body: unknown): GenerateResult['usage'] {
  const usage = asRecord(asRecord(body)?.usageMetadata);
  if (usage === undefined) return undefined;
  const imageTokens = asArray(usage.candidatesTokensDetails)
    .map(asRecord)
    .filter((d) => d?.modality === 'IMAGE')
    .reduce((sum, d) => sum + (asNumber(d?.tokenCount) ?? 0), 0);
  return {
    inputTokens: asNumber(usage.promptTokenCount),
    outputTokens: asNumber(usage.candidatesTokenCount),
    imageTokens: imageTokens > 0 ? imageTokens : undefined,
  };
}
