import { describe, expect, it } from 'vitest';
import { MAX_RETRY_HINT_MS, parseGoogleDuration, parseRetryAfter, parseRetryAfterMs } from './retry-after.js';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds, whole or decimal', () => {
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
  });

  it('reads an HTTP-date, and a past date as 0', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('discards negative values instead of reading them as dates (V8 reads "-5" as a year)', () => {
    expect(Number.isNaN(Date.parse('-5'))).toBe(false);
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('-0.5', now)).toBeUndefined();
  });

  it('discards garbage and absent values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('1.5x', now)).toBeUndefined();
    expect(parseRetryAfter('Someday, maybe', now)).toBeUndefined();
  });

  it('clamps huge values to a day', () => {
    expect(parseRetryAfter('999999999', now)).toBe(MAX_RETRY_HINT_MS);
    expect(parseRetryAfter('1e400', now)).toBeUndefined();
    expect(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', now)).toBe(MAX_RETRY_HINT_MS);
  });
});

describe('parseRetryAfterMs', () => {
  it('reads float milliseconds and discards the rest', () => {
    expect(parseRetryAfterMs('250.5')).toBe(250.5);
    expect(parseRetryAfterMs('-1')).toBeUndefined();
    expect(parseRetryAfterMs('soon')).toBeUndefined();
    expect(parseRetryAfterMs(null)).toBeUndefined();
    expect(parseRetryAfterMs('999999999999')).toBe(MAX_RETRY_HINT_MS);
  });
});

describe('parseGoogleDuration (RetryInfo.retryDelay)', () => {
  it('reads seconds with a fraction, rounding up to whole milliseconds', () => {
    expect(parseGoogleDuration('12.5s')).toBe(12_500);
    expect(parseGoogleDuration('12.771204034s')).toBe(12_772);
    expect(parseGoogleDuration('22s')).toBe(22_000);
    expect(parseGoogleDuration('0s')).toBe(0);
  });

  it('discards negative, garbage and huge values', () => {
    expect(parseGoogleDuration('-5s')).toBeUndefined();
    expect(parseGoogleDuration('soon')).toBeUndefined();
    expect(parseGoogleDuration('12')).toBeUndefined();
    expect(parseGoogleDuration(12)).toBeUndefined();
    expect(parseGoogleDuration('99999999s')).toBe(MAX_RETRY_HINT_MS);
  });
});
