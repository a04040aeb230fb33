/**
 * @module One read of the limits every worker shares, per model and API key: declared and
 * effective (AIMD) rate, in-flight calls, cooldowns, parking and the model's circuit breaker.
 * GET /v1/models and the metrics read the same function, so they never disagree.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type CircuitState, createCircuitBreaker } from './circuit-breaker.js';
import { ResourceNotConfiguredError } from './errors.js';
import { createLimiter } from './limiter.js';
import { createKeyRevocations, type KeyRevocation } from './revoked-keys.js';
import type { ResourceState } from './types.js';

/**
 * A key's public name: the first 10 hex digits of its SHA-256. Redis keys, logs and the API show
 * only this, never the key (40 bits of a hash of a high-entropy secret reveal nothing of it).
 */
export function keyId(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 10);
}

/** The limiter resource of one provider + model + API key. */
export function resourceIdFor(provider: string, modelId: string, apiKey: string): string {
  return `${provider}|${modelId}|${keyId(apiKey)}`;
}

/** Where the shared state lives under a deployment's queue prefix (PIXELMILL_QUEUE_PREFIX). */
export function schedulingPrefixes(queuePrefix: string): { limiter: string; circuit: string } {
  return { limiter: `${queuePrefix}:rl`, circuit: `${queuePrefix}:cb` };
}

/** What the view needs of the model registry (ModelRegistry fits). */
export interface RegistryLike {
  list(): readonly { id: string; provider: string }[];
  provider(name: string): { apiKeys: readonly string[] } | undefined;
}

export interface KeyLimitState {
  keyId: string;
  /** null until a worker has started and written the declared limits. */
  state: ResourceState | null;
  /** Out of rotation for every model of the provider (invalid, revoked or forbidden); null when not. */
  revoked: KeyRevocation | null;
}

export interface ModelLimitState {
  model: string;
  provider: string;
  circuit: CircuitState;
  keys: KeyLimitState[];
}

async function keyState(
  limiter: ReturnType<typeof createLimiter>,
  provider: string,
  modelId: string,
  apiKey: string,
): Promise<ResourceState | null> {
  try {
    return await limiter.state(resourceIdFor(provider, modelId, apiKey));
  } catch (err) {
    if (err instanceof ResourceNotConfiguredError) return null;
    throw err;
  }
}

/** Current limit state of every model of the registry, read from Redis (reads change nothing). */
export async function readLimitStates(
  redis: Redis,
  queuePrefix: string,
  registry: RegistryLike,
): Promise<ModelLimitState[]> {
  const prefixes = schedulingPrefixes(queuePrefix);
  const limiter = createLimiter(redis, { prefix: prefixes.limiter });
  const breaker = createCircuitBreaker(redis, { prefix: prefixes.circuit });
  const revocations = createKeyRevocations(redis, { prefix: prefixes.limiter });
  return Promise.all(
    registry.list().map(async (model) => {
      const apiKeys = [...new Set(registry.provider(model.provider)?.apiKeys ?? [])];
      const [circuit, states, revoked] = await Promise.all([
        breaker.circuitState(model.id),
        Promise.all(apiKeys.map((k) => keyState(limiter, model.provider, model.id, k))),
        revocations.revoked(model.provider, apiKeys.map(keyId)),
      ]);
      const keys = apiKeys.map((k, i) => ({
        keyId: keyId(k),
        state: states[i] ?? null,
        revoked: revoked.get(keyId(k)) ?? null,
      }));
      return { model: model.id, provider: model.provider, circuit, keys };
    }),
  );
}
