/**
 * The one place that decides what a Gemini answer without an image means (providers.md §2, §8).
 * Classification reads the HTTP status, `error.status` and `error.details`, never the message text,
 * with one exception: an empty prepay balance or a spend cap comes as a bare 429 without details.
 * @module
 */
import { type ErrorScope, type ItemErrorCode, ProviderError, parseGoogleDuration } from '@pixelmill/core';
import { asArray, asRecord, asString, clip, type JsonRecord } from './json.js';
import { msUntilPacificMidnight, retryAfterFromHeaders } from './retry-hints.js';

/** finishReason / blockReason values that mean "refused for content": terminal for the item. */
export const GEMINI_BLOCK_REASONS: ReadonlySet<string> = new Set([
  'SAFETY',
  'IMAGE_SAFETY',
  'PROHIBITED_CONTENT',
  'IMAGE_PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'RECITATION',
  'IMAGE_RECITATION',
]);

/** The only message-text match: billing 429s carry no details to match on (discuss.ai.google.dev 169215). */
const BILLING_429 = /prepayment credits|spend(?:ing)?[ -]?(?:cap|limit)/i;

const TYPE_PREFIX = 'type.googleapis.com/google.rpc.';

/**
 * Maps any Gemini answer that yielded no image (an HTTP error, or a 200 that was blocked or came back
 * without an image) to one ProviderError. `now` is injectable for the per-day reset computation.
 */
export function geminiError(
  status: number,
  body: unknown,
  headers?: Headers,
  nowMs: number = Date.now(),
): ProviderError {
  if (status >= 200 && status < 300) return noImageError(status, body);

  const error = asRecord(asRecord(body)?.error);
  const rpcStatus = asString(error?.status);
  const message = asString(error?.message) ?? `HTTP ${status} without a Gemini error body`;
  const details = asArray(error?.details)
    .map(asRecord)
    .filter((d) => d !== undefined);
  const make = (code: ItemErrorCode, retryable: boolean, scope: ErrorScope, extra: Partial<Init> = {}) =>
    new ProviderError({
      code,
      retryable,
      scope,
      status,
      providerCode: rpcStatus ?? String(status),
      message: `Gemini ${status}${rpcStatus === undefined ? '' : ` ${rpcStatus}`}: ${clip(message)}`,
      ...extra,
    });

  if (status === 429) return resourceExhausted(details, message, headers, nowMs, make);
  if (status === 400) {
    const reason = detailOf(details, 'ErrorInfo')?.reason;
    if (typeof reason === 'string' && reason.startsWith('API_KEY_'))
      return make('config_error', false, 'key');
    // Billing not enabled, or free tier unavailable in the region: a property of the key's project.
    if (rpcStatus === 'FAILED_PRECONDITION') return make('config_error', false, 'key');
    if (violatedFields(details).some((f) => /generation_?config|model/i.test(f))) {
      return make('config_error', false, 'model');
    }
    // Otherwise INVALID_ARGUMENT is about this request's own content (prompt, reference images):
    // sizes and aspect ratios were already checked against the registry before the call.
    return make('invalid_prompt', false, 'item');
  }
  // Bad or under-privileged key: other keys (other projects) may still work.
  if (status === 401 || status === 403) return make('config_error', false, 'key');
  if (status === 404) return make('config_error', false, 'model'); // unknown or retired model id
  if (status === 413) return make('invalid_prompt', false, 'item'); // request (references) too large
  if (status === 408 || status === 504) return make('timeout', true, 'item');
  if (status === 503) {
    // "The model is overloaded": with a Retry-After it is a wait, otherwise a normal backoff.
    const retryAfterMs = retryAfterFromHeaders(headers);
    if (retryAfterMs !== undefined) return make('rate_limited', true, 'key', { retryAfterMs });
    return make('provider_error', true, 'item');
  }
  if (status >= 500 || status === 409) return make('provider_error', true, 'item');
  return make('provider_error', false, 'item');
}

type Init = ConstructorParameters<typeof ProviderError>[0];
type Make = (
  code: ItemErrorCode,
  retryable: boolean,
  scope: ErrorScope,
  extra?: Partial<Init>,
) => ProviderError;

function resourceExhausted(
  details: JsonRecord[],
  message: string,
  headers: Headers | undefined,
  nowMs: number,
  make: Make,
): ProviderError {
  const quotaIds = asArray(detailOf(details, 'QuotaFailure')?.violations)
    .map((v) => asString(asRecord(v)?.quotaId))
    .filter((id) => id !== undefined);
  const retryDelayMs = parseGoogleDuration(detailOf(details, 'RetryInfo')?.retryDelay);

  if (quotaIds.some((id) => /PerDay/i.test(id))) {
    // Requests-per-day for this project: nothing will change before midnight Pacific. Not retryable
    // on this key; the worker parks the key (scope) and fails the item over or ends it.
    const untilReset = msUntilPacificMidnight(nowMs);
    return make('quota_exhausted', false, 'key', {
      retryAfterMs: Math.max(untilReset, retryDelayMs ?? 0),
    });
  }
  if (details.length === 0 && BILLING_429.test(message)) {
    // Empty prepay balance or spend cap: every key on that billing account fails until a human acts.
    return make('quota_exhausted', false, 'provider');
  }
  // Per-minute quotas (RPM, TPM, IPM), and also the detail-less "Resource has been exhausted (e.g.
  // check quota)" that shared-capacity models answer under load: wait and retry on this key.
  return make('rate_limited', true, 'key', {
    retryAfterMs: retryDelayMs ?? retryAfterFromHeaders(headers),
  });
}

/** A 200 without a usable image: blocked (terminal) or "no image this time" (worth one or two retries). */
function noImageError(status: number, body: unknown): ProviderError {
  const root = asRecord(body);
  if (root === undefined) {
    return new ProviderError({
      code: 'provider_error',
      message: 'Gemini answered 200 with a body that is not JSON',
      retryable: true,
      scope: 'item',
      status,
    });
  }
  const requestId = asString(root.responseId);
  const blockReason = asString(asRecord(root.promptFeedback)?.blockReason);
  if (blockReason !== undefined) {
    return new ProviderError({
      code: 'content_blocked',
      message: `Gemini blocked the prompt: ${blockReason}`,
      retryable: false,
      scope: 'item',
      status,
      providerCode: blockReason,
      requestId,
    });
  }
  const candidate = asRecord(asArray(root.candidates)[0]);
  const finishReason = asString(candidate?.finishReason);
  const explanation = asString(candidate?.finishMessage) ?? candidateText(candidate);
  const suffix = explanation === undefined ? '' : `: ${clip(explanation)}`;
  if (finishReason !== undefined && GEMINI_BLOCK_REASONS.has(finishReason)) {
    return new ProviderError({
      code: 'content_blocked',
      message: `Gemini refused to generate the image (${finishReason})${suffix}`,
      retryable: false,
      scope: 'item',
      status,
      providerCode: finishReason,
      requestId,
    });
  }
  // NO_IMAGE, IMAGE_OTHER, OTHER, MAX_TOKENS, STOP with text only, no candidates at all.
  const what = candidate === undefined ? 'no candidates' : (finishReason ?? 'no finishReason');
  return new ProviderError({
    code: 'no_image',
    message: `Gemini returned no image (${what})${suffix}`,
    retryable: true,
    scope: 'item',
    status,
    providerCode: finishReason ?? (candidate === undefined ? 'NO_CANDIDATES' : 'TEXT_ONLY'),
    requestId,
  });
}

function candidateText(candidate: JsonRecord | undefined): string | undefined {
  const texts = asArray(asRecord(candidate?.content)?.parts)
    .map(asRecord)
    .filter((p) => p !== undefined && p.thought !== true)
    .map((p) => asString(p?.text))
    .filter((t) => t !== undefined && t.trim() !== '');
  return texts.length === 0 ? undefined : texts.join(' ');
}

function detailOf(details: JsonRecord[], type: string): JsonRecord | undefined {
  return details.find((d) => d['@type'] === `${TYPE_PREFIX}${type}`);
}

function violatedFields(details: JsonRecord[]): string[] {
  return asArray(detailOf(details, 'BadRequest')?.fieldViolations)
    .map((v) => asString(asRecord(v)?.field))
    .filter((f) => f !== undefined);
}
