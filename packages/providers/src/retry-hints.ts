/**
 * Parsers for the wait hints providers send with 429/503 answers. Every parser returns milliseconds
 * or undefined; garbage (non-finite, negative) is discarded rather than guessed at.
 * @module
 */

/** Hints longer than this are clamped: no rate limit in the docs resets later than the next day. */
const MAX_HINT_MS = 24 * 60 * 60 * 1000;

/**
 * openai-node's order: `retry-after-ms` (float milliseconds), then `retry-after` (seconds, or an HTTP
 * date). OpenRouter and Google front-ends send only `retry-after`.
 */
export function retryAfterFromHeaders(headers: Headers | undefined, nowMs = Date.now()): number | undefined {
  if (headers === undefined) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const parsed = bound(Number(ms));
    if (parsed !== undefined) return parsed;
  }
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return bound(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : bound(Math.max(0, date - nowMs));
}

/** google.protobuf.Duration in JSON form, e.g. RetryInfo.retryDelay "12.771204034s" → 12772. */
export function parseGoogleDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match?.[1] === undefined ? undefined : bound(Math.ceil(Number(match[1]) * 1000));
}

/** Go duration as in OpenAI's x-ratelimit-reset-* headers: "1s", "6m0s", "20ms", "1h2m3.5s". */
export function parseGoDuration(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '' || !/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(text)) return undefined;
  const unitMs: Record<string, number> = {
    h: 3_600_000,
    m: 60_000,
    s: 1000,
    ms: 1,
    us: 1e-3,
    µs: 1e-3,
    ns: 1e-6,
  };
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    total += Number(part[1]) * (unitMs[part[2] ?? ''] ?? 0);
  }
  return bound(Math.ceil(total));
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

function bound(ms: number): number | undefined {
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_HINT_MS);
}
