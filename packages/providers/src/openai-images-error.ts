/**
 * The one place that decides what an OpenAI Images API failure means (providers.md §4, §8).
 * Classification reads status, `error.type`, `error.code` and `error.param`, never the message.
 * @module
 */
import { type ErrorScope, type ItemErrorCode, ProviderError } from '@pixelmill/core';
import { asRecord, asString, clip } from './json.js';
import { retryAfterFromHeaders } from './retry-hints.js';

/** Request fields whose rejection is about this item's content rather than our configuration. */
const CONTENT_PARAMS = new Set(['prompt', 'image', 'image[]', 'mask']);

/**
 * Maps an OpenAI answer without images to one ProviderError. `body` is the whole JSON body
 * (`{"error": {...}}` for HTTP errors; the ImagesResponse for a 200 that held no image).
 */
export function openAiImagesError(status: number, body: unknown, headers?: Headers): ProviderError {
  const requestId = headers?.get('x-request-id') ?? undefined;
  if (status >= 200 && status < 300) {
    return new ProviderError({
      code: 'no_image',
      message: 'OpenAI answered 200 without b64_json or url images',
      retryable: true,
      scope: 'item',
      status,
      requestId,
    });
  }
  const error = asRecord(asRecord(body)?.error);
  const type = asString(error?.type);
  const code = asString(error?.code);
  const param = asString(error?.param);
  const message = asString(error?.message) ?? `HTTP ${status} without an OpenAI error body`;
  const make = (itemCode: ItemErrorCode, retryable: boolean, scope: ErrorScope, retryAfterMs?: number) =>
    new ProviderError({
      code: itemCode,
      retryable,
      scope,
      status,
      retryAfterMs,
      requestId,
      providerCode: code ?? type ?? String(status),
      message: `OpenAI ${status}${code === undefined ? '' : ` ${code}`}: ${clip(message)}`,
    });

  if (status === 429) {
    // Classify on `type`: its `code` varies (insufficient_quota, credit_balance_exhausted,
    // organization_spend_limit_exceeded, ...). Out of credit is terminal for every key of the account.
    if (type === 'insufficient_quota' || code === 'insufficient_quota')
      return make('quota_exhausted', false, 'provider');
    return make('rate_limited', true, 'key', retryAfterFromHeaders(headers));
  }
  if (code === 'moderation_blocked' || code === 'content_policy_violation')
    return make('content_blocked', false, 'item');
  if (status === 400 || status === 422) {
    if ((param !== undefined && CONTENT_PARAMS.has(param)) || code === 'string_above_max_length') {
      return make('invalid_prompt', false, 'item');
    }
    return make('config_error', false, 'model'); // size, quality, model parameters we chose
  }
  // invalid_api_key; 403 is an unverified organisation or unsupported region: the key's account.
  if (status === 401 || status === 403) return make('config_error', false, 'key');
  if (status === 404) return make('config_error', false, 'model'); // model_not_found: retired or wrong id
  if (status === 408) return make('timeout', true, 'item');
  if (status === 503) {
    const retryAfterMs = retryAfterFromHeaders(headers);
    if (retryAfterMs !== undefined) return make('rate_limited', true, 'key', retryAfterMs);
  }
  if (status >= 500 || status === 409) return make('provider_error', true, 'item');
  return make('provider_error', false, 'item');
}
