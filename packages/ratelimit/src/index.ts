/**
 * @module @pixelmill/ratelimit: distributed provider limits, backoff and circuit breaking in Redis.
 */
export { type FullJitterOptions, fullJitterBackoff } from './backoff.js';
export {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitDecision,
  type CircuitState,
  createCircuitBreaker,
} from './circuit-breaker.js';
export type { LimiterOptions } from './context.js';
export { ImagesExceedLimitError, ResourceNotConfiguredError } from './errors.js';
export {
  type KeyLimitState,
  keyId,
  type ModelLimitState,
  type RegistryLike,
  readLimitStates,
  resourceIdFor,
  schedulingPrefixes,
} from './limit-view.js';
export { createLimiter, DEFAULT_WINDOW_MS } from './limiter.js';
export {
  createKeyRevocations,
  DEFAULT_REVOKED_MS,
  type KeyRevocation,
  type KeyRevocations,
} from './revoked-keys.js';
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
