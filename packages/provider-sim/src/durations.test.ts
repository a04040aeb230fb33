import { describe, expect, it } from 'vitest';
import { goDuration, googleDuration, retryAfterSeconds } from './durations.js';

describe('durations', () => {
  it('formats google.protobuf.Duration', () => {
    expect(googleDuration(12_500)).toBe('12.5s');
    expect(googleDuration(1000)).toBe('1s');
    expect(googleDuration(0.2)).toBe('0.001s');
  });
  it("formats Go's time.Duration", () => {
    expect(goDuration(0)).toBe('0s');
    expect(goDuration(20)).toBe('20ms');
    expect(goDuration(1000)).toBe('1s');
    expect(goDuration(1500)).toBe('1.5s');
    expect(goDuration(360_000)).toBe('6m0s');
    expect(goDuration(3_723_500)).toBe('1h2m3.5s');
  });
  it('rounds Retry-After up to whole seconds', () => {
    expect(retryAfterSeconds(1)).toBe('1');
    expect(retryAfterSeconds(2001)).toBe('3');
  });
});
