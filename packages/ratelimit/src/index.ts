/** @module @pixelmill/ratelimit: distributed provider limits, backoff and circuit breaking in Redis. */
export { type FullJitterOptions, fullJitterBackoff } from './backoff.js';
export {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  createCircuitBreaker,
} from './circuit-breaker.js';
export type { LimiterOptions } from './context.js';
export { ImagesExceedLimitError, ResourceNotConfiguredError } from './errors.js';
export { createLimiter, DEFAULT_WINDOW_MS } from './limiter.js';
export type {
  AcquireOptions,
  AcquireResult,
  Denied,
  DenyReason,
  Granted,
  Limiter,
  PickResult,
  ResourceLimits,
  ResourceState,
} from './types.js';
