import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCircuitBreaker } from './circuit-breaker.js';
import { connectRedis, deleteByPrefix, manualClock, testPrefix } from './test-support/redis.js';

const prefix = testPrefix();
let redis: Redis;

beforeAll(() => {
  redis = connectRedis();
});

afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

function breaker() {
  const clock = manualClock();
  const cb = createCircuitBreaker(redis, {
    prefix,
    failureThreshold: 3,
    openMs: 1_000,
    probeLeaseMs: 500,
    now: clock.now,
  });
  return { clock, cb };
}

describe('circuit breaker', () => {
  it('opens after N consecutive failures; a success in between resets the count', async () => {
    const { cb } = breaker();
    expect(await cb.recordFailure('reset')).toBe('closed');
    expect(await cb.recordFailure('reset')).toBe('closed');
    expect(await cb.recordSuccess('reset')).toBe('closed');
    expect(await cb.recordFailure('reset')).toBe('closed');
    expect(await cb.recordFailure('reset')).toBe('closed');
    expect(await cb.allowRequest('reset')).toBe(true);
    expect(await cb.recordFailure('reset')).toBe('open');
    expect(await cb.circuitState('reset')).toBe('open');
    expect(await cb.allowRequest('reset')).toBe(false);
  });

  it('goes half-open after openMs, lets one probe through, and closes on its success', async () => {
    const { clock, cb } = breaker();
    for (let i = 0; i < 3; i++) await cb.recordFailure('probe-ok');
    // A late success of a call sent before the breaker opened proves nothing.
    expect(await cb.recordSuccess('probe-ok')).toBe('open');
    clock.advance(999);
    expect(await cb.circuitState('probe-ok')).toBe('open');
    clock.advance(1);
    expect(await cb.circuitState('probe-ok')).toBe('half-open');
    expect(await cb.allowRequest('probe-ok')).toBe(true);
    expect(await cb.allowRequest('probe-ok')).toBe(false);
    expect(await cb.recordSuccess('probe-ok')).toBe('closed');
    expect(await cb.allowRequest('probe-ok')).toBe(true);
  });

  it('re-opens when the probe fails, and frees the probe turn of a probe that never reports', async () => {
    const { clock, cb } = breaker();
    for (let i = 0; i < 3; i++) await cb.recordFailure('probe-bad');
    clock.advance(1_000);
    expect(await cb.allowRequest('probe-bad')).toBe(true);
    expect(await cb.recordFailure('probe-bad')).toBe('open');
    expect(await cb.allowRequest('probe-bad')).toBe(false);

    clock.advance(1_000);
    expect(await cb.allowRequest('probe-bad')).toBe(true); // this probe's worker crashes
    clock.advance(499);
    expect(await cb.allowRequest('probe-bad')).toBe(false);
    clock.advance(1);
    expect(await cb.allowRequest('probe-bad')).toBe(true);
  });

  it('says how long to wait when refusing, and lets an unsent probe be given back', async () => {
    const { clock, cb } = breaker();
    expect(await cb.allow('wait')).toEqual({ allowed: true, state: 'closed', retryInMs: 0 });
    for (let i = 0; i < 3; i++) await cb.recordFailure('wait');
    clock.advance(400);
    expect(await cb.allow('wait')).toEqual({ allowed: false, state: 'open', retryInMs: 600 });
    clock.advance(600);
    expect(await cb.allow('wait')).toEqual({ allowed: true, state: 'half-open', retryInMs: 0 });
    clock.advance(100);
    expect(await cb.allow('wait')).toEqual({ allowed: false, state: 'half-open', retryInMs: 400 });
    // The probe holder had no limiter capacity and never called the provider: the next one may probe.
    await cb.abandonProbe('wait');
    expect(await cb.allow('wait')).toEqual({ allowed: true, state: 'half-open', retryInMs: 0 });
    expect(await cb.circuitState('wait')).toBe('half-open');
  });

  it('keeps breakers apart by id', async () => {
    const { cb } = breaker();
    for (let i = 0; i < 3; i++) await cb.recordFailure('provider-a');
    expect(await cb.circuitState('provider-a')).toBe('open');
    expect(await cb.circuitState('provider-b')).toBe('closed');
  });
});
