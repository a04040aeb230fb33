import { createHash } from 'node:crypto';
import type { ModelRegistry, ModelSpec } from '@pixelmill/providers';
import type { Limiter } from '@pixelmill/ratelimit';

/** One limited resource: a provider + model + API key. */
export interface KeyResource {
  id: string;
  apiKey: string;
}

/**
 * Resource ids name a key by a short hash, never by the key itself: Redis key names show up in
 * monitoring and in `KEYS` output.
 */
export function keyResources(registry: ModelRegistry, model: ModelSpec): KeyResource[] {
  const provider = registry.provider(model.provider);
  return (provider?.apiKeys ?? []).map((apiKey) => ({
    id: `${model.provider}|${model.id}|${createHash('sha256').update(apiKey).digest('hex').slice(0, 10)}`,
    apiKey,
  }));
}

/** Writes every model's declared limits to Redis, so all processes enforce the same numbers. */
export async function configureLimits(limiter: Limiter, registry: ModelRegistry): Promise<void> {
  for (const model of registry.list()) {
    for (const r of keyResources(registry, model)) {
      await limiter.configure({
        id: r.id,
        ...(model.limits.rpm !== undefined ? { rpm: model.limits.rpm } : {}),
        ...(model.limits.ipm !== undefined ? { ipm: model.limits.ipm } : {}),
        ...(model.limits.concurrency !== undefined ? { concurrency: model.limits.concurrency } : {}),
      });
    }
  }
}
