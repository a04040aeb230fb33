/**
 * @module Which of a provider's API keys are in rotation. A key the provider refused as invalid,
 * revoked or forbidden (a `config_error` of scope `key`) leaves the rotation of every model of the
 * provider at once, for every worker (ratelimit revoked-keys.ts), until the mark lapses after
 * DEFAULT_REVOKED_MS. The process that marks it logs the one warning; keys are named by keyId only.
 * A key this process has not yet seen answered (at start, or after a mark lapsed) is on trial: one
 * call at a time until it answers, so a refused key costs each process at most one call.
 */
import type { ModelSpec } from '@pixelmill/providers';
import { createKeyRevocations, keyId, schedulingPrefixes } from '@pixelmill/ratelimit';
import type { WorkerDeps } from '../deps.js';
import type { KeyResource } from './resources.js';

export function createKeyRotation(deps: Pick<WorkerDeps, 'redis' | 'queues' | 'logger'>) {
  const revocations = createKeyRevocations(deps.redis, {
    prefix: schedulingPrefixes(deps.queues.prefix).limiter,
  });
  /** Provider + keyId of keys that answered this process with anything but a refusal. */
  const proven = new Set<string>();
  /** ... and of unproven keys with their one trial call out. */
  const onTrial = new Set<string>();
  const local = (model: ModelSpec, r: KeyResource) => `${model.provider}|${keyId(r.apiKey)}`;
  return {
    revocations,

    /** Keys of the model whose trial call is out (not to be used until it answers). */
    onTrial(model: ModelSpec, resources: readonly KeyResource[]): KeyResource[] {
      return resources.filter((r) => onTrial.has(local(model, r)));
    },

    /** A grant on this key may be used: it is proven, or this call becomes its trial. */
    claim(model: ModelSpec, resource: KeyResource): boolean {
      const id = local(model, resource);
      if (proven.has(id)) return true;
      if (onTrial.has(id)) return false;
      onTrial.add(id);
      return true;
    },

    /** The grant was given back unused: the key's trial (if this was it) is free again. */
    unclaim(model: ModelSpec, resource: KeyResource): void {
      onTrial.delete(local(model, resource));
    },

    /** The call on the key ended: refused (the key is unproven again), or any other answer. */
    answered(model: ModelSpec, resource: KeyResource, refused: boolean): void {
      const id = local(model, resource);
      onTrial.delete(id);
      if (refused) proven.delete(id);
      else proven.add(id);
    },

    /** The keys still usable, and when the first revoked one comes back (null: none is revoked). */
    async inRotation(
      model: ModelSpec,
      resources: readonly KeyResource[],
    ): Promise<{ keys: KeyResource[]; nextBackAt: number | null }> {
      const marks = await revocations.revoked(
        model.provider,
        resources.map((r) => keyId(r.apiKey)),
      );
      if (marks.size === 0) return { keys: [...resources], nextBackAt: null };
      const keys = resources.filter((r) => !marks.has(keyId(r.apiKey)));
      return { keys, nextBackAt: Math.min(...[...marks.values()].map((m) => m.until)) };
    },

    /** Takes the key out of rotation for every model of the provider; one warning per mark. */
    async revoke(model: ModelSpec, resource: KeyResource, reason: string): Promise<void> {
      const id = keyId(resource.apiKey);
      if (await revocations.revoke(model.provider, id, reason))
        deps.logger.warn(
          { provider: model.provider, model: model.id, key_id: id, reason },
          'API key refused by the provider (invalid, revoked or forbidden): out of rotation for every model of the provider',
        );
    },
  };
}

export type KeyRotation = ReturnType<typeof createKeyRotation>;
