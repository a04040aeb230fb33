/**
 * The one parser of server wait hints: Retry-After (RFC 9110: delay-seconds or an HTTP-date), the
 * non-standard retry-after-ms, and Google's RetryInfo.retryDelay. Used for provider 429/503 answers
 * (packages/providers) and webhook receivers' 429/503 (packages/webhooks). Every parser returns
 * milliseconds, or undefined for anything absent or unreadable (negative, non-finite, not a date);
 * nothing is guessed at.
 * @module
 */

/** Hints longer than this are clamped: no rate limit in the docs resets later than the next day. */
export const MAX_RETRY_HINT_MS = 24 * 60 * 60 * 1000;

/** A finite, non-negative wait, clamped to MAX_RETRY_HINT_MS; undefined otherwise. */
export function boundHintMs(ms: number): number | undefined {
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_RETRY_HINT_MS);
}

/**
 * Retry-After: delay-seconds ("7"; a decimal such as "1.5" is read too), or an HTTP-date (a past
 * date means 0). Only text starting with a day name is read as a date: V8's lenient Date.parse
 * would read "-5" or "1.5x" as years.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  const text = value?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return boundHintMs(Number(text) * 1000);
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : boundHintMs(Math.max(0, at - nowMs));
}

/** retry-after-ms (OpenAI): float milliseconds. */
export function parseRetryAfterMs(value: string | null | undefined): number | undefined {
  const text = value?.trim();
  if (text === undefined || text === '' || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  return boundHintMs(Number(text));
}

/** google.protobuf.Duration in JSON form, e.g. RetryInfo.retryDelay "12.771204034s" → 12772. */
export function parseGoogleDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match?.[1] === undefined ? undefined : boundHintMs(Math.ceil(Number(match[1]) * 1000));
}
