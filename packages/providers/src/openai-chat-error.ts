/**
 * The one place that decides what an OpenAI-compatible chat answer without an image means
 * (OpenRouter and proxies; providers.md §5, §8). Reads status, `error.code` and `error.metadata`.
 * @module
 */
import { type ErrorScope, type ItemErrorCode, ProviderError } from '@pixelmill/core';
import { GEMINI_BLOCK_REASONS } from './gemini-error.js';
import { asArray, asNumber, asRecord, asString, clip, type JsonRecord } from './json.js';
import { retryAfterFromHeaders } from './retry-hints.js';

/**
 * Maps a chat answer that yielded no image to one ProviderError: an HTTP error, or a 200 carrying an
 * `error` object, `finish_reason: "error"`, a content filter, or text only.
 */
export function openAiChatError(status: number, body: unknown, headers?: Headers): ProviderError {
  const root = asRecord(body);
  const requestId = asString(root?.id);
  if (status >= 200 && status < 300) return okWithoutImage(status, root, headers, requestId);

  const error = asRecord(root?.error);
  const metadata = asRecord(error?.metadata);
  const providerCode = error?.code === undefined || error.code === null ? String(status) : String(error.code);
  const message = asString(error?.message) ?? `HTTP ${status} without an error body`;
  const make = (code: ItemErrorCode, retryable: boolean, scope: ErrorScope, retryAfterMs?: number) =>
    new ProviderError({
      code,
      retryable,
      scope,
      status,
      retryAfterMs,
      providerCode,
      requestId,
      message: `chat provider ${status}: ${clip(message)}${upstreamName(metadata)}`,
    });

  switch (status) {
    case 402: // no credits left on the account: never retry (OpenRouter)
      return make('quota_exhausted', false, 'provider');
    case 403:
      // OpenRouter uses 403 for moderation, with metadata.reasons / flagged_input. Proxies also use
      // 403 for a key without access to the model, which is a key problem.
      if (metadata?.reasons !== undefined || metadata?.flagged_input !== undefined) {
        return make('content_blocked', false, 'item');
      }
      return make('config_error', false, 'key');
    case 401:
      return make('config_error', false, 'key');
    case 404:
      return make('config_error', false, 'model');
    case 400:
    case 413:
    case 422:
      // Without a structured field to tell config from content, blame the item: a wrong model setting
      // then fails items one by one, but a bad prompt or reference never stops the whole model.
      return make('invalid_prompt', false, 'item');
    case 408:
    case 504:
      return make('timeout', true, 'item');
    case 429:
      // OpenRouter limits are per account: every key of it shares the wait (scope stays 'key' because
      // proxies in front of several upstream accounts limit per key).
      return make('rate_limited', true, 'key', retryAfterFromHeaders(headers));
    case 503: {
      // "No provider available": with Retry-After a wait, otherwise a normal backoff.
      const retryAfterMs = retryAfterFromHeaders(headers);
      return retryAfterMs === undefined
        ? make('provider_error', true, 'item')
        : make('rate_limited', true, 'key', retryAfterMs);
    }
    default:
      return status >= 500 || status === 409
        ? make('provider_error', true, 'item') // 502: the upstream model failed (not billed)
        : make('provider_error', false, 'item');
  }
}

function okWithoutImage(
  status: number,
  root: JsonRecord | undefined,
  headers: Headers | undefined,
  requestId: string | undefined,
): ProviderError {
  const base = { status, requestId, scope: 'item' as const };
  if (root === undefined) {
    return new ProviderError({
      ...base,
      code: 'provider_error',
      message: 'chat answer is not JSON',
      retryable: true,
    });
  }
  // A late failure arrives as a 200 with an `error` object; a numeric code is the real status.
  const error = asRecord(root.error);
  if (error !== undefined) {
    const embedded = asNumber(error.code);
    if (embedded !== undefined && embedded >= 400 && embedded < 600) {
      return openAiChatError(embedded, { ...root, choices: undefined }, headers);
    }
    return new ProviderError({
      ...base,
      code: 'provider_error',
      message: `chat provider failed mid-response: ${clip(asString(error.message) ?? 'unknown error')}`,
      retryable: true,
      providerCode: error.code === undefined ? undefined : String(error.code),
    });
  }
  const choice = asRecord(asArray(root.choices)[0]);
  const finish = asString(choice?.finish_reason);
  const native = asString(choice?.native_finish_reason);
  if (finish === 'content_filter' || (native !== undefined && GEMINI_BLOCK_REASONS.has(native))) {
    return new ProviderError({
      ...base,
      code: 'content_blocked',
      message: `chat provider refused the image (${native ?? finish})`,
      retryable: false,
      providerCode: native ?? finish,
    });
  }
  if (finish === 'error') {
    return new ProviderError({
      ...base,
      code: 'provider_error',
      message: `chat provider ended with finish_reason "error"${native === undefined ? '' : ` (${native})`}`,
      retryable: true,
      providerCode: native ?? finish,
    });
  }
  const text = messageText(asRecord(choice?.message));
  return new ProviderError({
    ...base,
    code: 'no_image',
    message: `chat provider returned no image (${native ?? finish ?? 'no finish_reason'})${text === '' ? '' : `: ${clip(text)}`}`,
    retryable: true,
    providerCode: native ?? finish ?? 'TEXT_ONLY',
  });
}

function messageText(message: JsonRecord | undefined): string {
  const content = message?.content;
  if (typeof content === 'string') return content.trim();
  return asArray(content)
    .map((p) => asString(asRecord(p)?.text) ?? '')
    .join(' ')
    .trim();
}

function upstreamName(metadata: JsonRecord | undefined): string {
  const name = asString(metadata?.provider_name);
  return name === undefined ? '' : ` (upstream ${name})`;
}
