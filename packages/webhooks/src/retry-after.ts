/** @module Reading a receiver's Retry-After (RFC 9110: delay-seconds or an HTTP date). */

/** Returns ms to wait, or `undefined` when absent or unparseable; a past date means 0. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form starts with a day name; without this, V8's lenient Date.parse reads
  // "-5" or "1.5" as years.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - now);
}
