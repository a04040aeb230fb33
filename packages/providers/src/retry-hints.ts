/**
 * Provider-specific wait hints sent with 429/503 answers (header order, Gemini's daily reset). Every
 * parser returns milliseconds or undefined; garbage (non-finite, negative) is discarded rather than
 * guessed at. Retry-After and RetryInfo themselves are read by @pixelmill/core.
 * @module
 */
import { parseRetryAfter, parseRetryAfterMs } from '@pixelmill/core';

/**
 * openai-node's order: `retry-after-ms` (float milliseconds), then `retry-after` (seconds, or an HTTP
 * date). OpenRouter and Google front-ends send only `retry-after`. Values are read by @pixelmill/core's
 * one Retry-After parser.
 */
export function retryAfterFromHeaders(headers: Headers | undefined, nowMs = Date.now()): number | undefined {
  if (headers === undefined) return undefined;
  return (
    parseRetryAfterMs(headers.get('retry-after-ms')) ?? parseRetryAfter(headers.get('retry-after'), nowMs)
  );
}

const pacificClock = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/Los_Angeles',
  hourCycle: 'h23',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

function pacificTime(ms: number): { hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(pacificClock.formatToParts(ms).map((p) => [p.type, p.value]));
  return { hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second) };
}

/**
 * Gemini per-day quotas (RPD) reset at midnight Pacific time, whatever RetryInfo says: captures show
 * a PerDay violation with retryDelay "22s". DST days are 23 or 25 hours long, hence the ±1 h nudge.
 */
export function msUntilPacificMidnight(nowMs = Date.now()): number {
  const { hour, minute, second } = pacificTime(nowMs);
  const elapsed = ((hour * 60 + minute) * 60 + second) * 1000 + (nowMs % 1000);
  let next = nowMs - elapsed + 24 * 3_600_000;
  const nextHour = pacificTime(next).hour;
  if (nextHour === 23) next += 3_600_000;
  else if (nextHour === 1) next -= 3_600_000;
  return next - nowMs;
}
