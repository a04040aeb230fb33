/**
 * @module Which of a provider's API keys are in rotation. A key the provider refused as invalid,
 * revoked or forbidden (a `config_error` of scope `key`) leaves the rotation of every model of the
 * provider at once, for every worker (ratelimit revoked-keys.ts), until the mark lapses after
 * DEFAULT_REVOKED_MS. The process that marks it logs the one warning; keys are named by keyId only.
 * A key no worker has seen answered lately (PROVEN_MS; at the first start, or after a mark lapsed)
 * is first checked at no cost where the provider allows it (the adapter's checkKey, a model
 * listing): accepted, it is proven at once; refused, it leaves the rotation before any image call.
 * Where the check cannot tell (no such endpoint, a limit, an error), the key is on trial in each
 * process: one image call at a time until it answers. Either way a refused key costs each process at
 * most one call, while keys known good run at full concurrency from a worker's start, and a new key
 * does not hold its first window to one call for a whole image call's latency.
 */
import type { ModelSpec } from '@pixelmill/providers';
import { createKeyRevocations, keyId, schedulingPrefixes } from '@pixelmill/ratelimit';
import type { WorkerDeps } from '../deps.js';
import type { KeyResource } from './resources.js';
import { keyRefusalReason, toProviderError } from './retry-policy.js';

/**
 * A key refused to this process is not granted here for this long even if Redis says otherwise:
 * longer than any acquire takes, so a grant computed before the refusal is never used. After it,
 * the Redis mark alone decides (an operator may restore the key).
 */
const REFUSED_HERE_MS = 15_000;
/** A key check that answers nothing within this long counts as "cannot tell". */
const CHECK_TIMEOUT_MS = 5_000;
/** A key whose check could not tell is not checked again in this process for this long. */
const RECHECK_MS = 60_000;

export function createKeyRotation(deps: Pick<WorkerDeps, 'redis' | 'queues' | 'logger' | 'registry'>) {
  const revocations = createKeyRevocations(deps.redis, {
    prefix: schedulingPrefixes(deps.queues.prefix).limiter,
  });
  /** Provider + keyId of keys known to answer with anything but a refusal, and when that was recorded. */
  const proven = new Map<string, number>();
  /** Proven marks are refreshed in Redis at most this often per key and process. */
  const REFRESH_MS = 60_000;
  /** ... and of unproven keys with their one trial call out, resolved when it answers. */
  const onTrial = new Map<string, { ended: Promise<void>; end: () => void }>();
  /** Keys refused to this process, and until when they are never granted here (REFUSED_HERE_MS). */
  const refused = new Map<string, number>();
  /** Key checks of this process: running now, and when each last ended without telling. */
  const checking = new Map<string, Promise<void>>();
  const checkedAt = new Map<string, number>();
  const local = (model: ModelSpec, r: KeyResource) => `${model.provider}|${keyId(r.apiKey)}`;
  const endTrial = (id: string) => {
    onTrial.get(id)?.end();
    onTrial.delete(id);
  };
  return {
    revocations,

    /** Keys of the model whose trial call is out (not to be used until it answers). */
    onTrial(model: ModelSpec, resources: readonly KeyResource[]): KeyResource[] {
      return resources.filter((r) => onTrial.has(local(model, r)));
    },

    /** Resolves when one of these keys' trial call answers (or at once when none is out). */
    async trialEnded(model: ModelSpec, resources: readonly KeyResource[]): Promise<void> {
      const out = resources.map((r) => onTrial.get(local(model, r))?.ended).filter((p) => p !== undefined);
      if (out.length > 0) await Promise.race(out);
    },

    /**
     * A grant on this key may be used: it is proven, or this call becomes its trial. Never for a key
     * refused to this process (a grant computed before the refusal arrived).
     */
    claim(model: ModelSpec, resource: KeyResource): boolean {
      const id = local(model, resource);
      const until = refused.get(id);
      if (until !== undefined && until > Date.now()) return false;
      if (proven.has(id)) return true;
      if (onTrial.has(id)) return false;
      let end!: () => void;
      const ended = new Promise<void>((resolve) => {
        end = resolve;
      });
      onTrial.set(id, { ended, end });
      return true;
    },

    /** The grant was given back unused: the key's trial (if this was it) is free again. */
    unclaim(model: ModelSpec, resource: KeyResource): void {
      endTrial(local(model, resource));
    },

    /** The call on the key ended: refused (the key is unproven again), or any other answer. */
    answered(model: ModelSpec, resource: KeyResource, wasRefused: boolean): void {
      const id = local(model, resource);
      endTrial(id);
      if (wasRefused) {
        proven.delete(id);
        return;
      }
      markProven(model, resource, id);
    },

    /** The keys still usable, and when the first revoked one comes back (null: none is revoked). */
    async inRotation(
      model: ModelSpec,
      resources: readonly KeyResource[],
    ): Promise<{ keys: KeyResource[]; nextBackAt: number | null }> {
      const ids = resources.map((r) => keyId(r.apiKey));
      const unproven = resources.filter((r) => !proven.has(local(model, r)) && !onTrial.has(local(model, r)));
      const [marks, known] = await Promise.all([
        revocations.revoked(model.provider, ids),
        unproven.length === 0
          ? Promise.resolve(new Set<string>())
          : revocations.proven(
              model.provider,
              unproven.map((r) => keyId(r.apiKey)),
            ),
      ]);
      // Keys another worker saw answered lately need no trial here (a refusal clears the mark).
      for (const r of unproven) if (known.has(keyId(r.apiKey))) proven.set(local(model, r), 0);
      if (marks.size === 0) return { keys: [...resources], nextBackAt: null };
      const keys = resources.filter((r) => !marks.has(keyId(r.apiKey)));
      return { keys, nextBackAt: Math.min(...[...marks.values()].map((m) => m.until)) };
    },

    revoke,

    /**
     * Checks the keys no worker has proven yet at no cost (the adapter's checkKey), once per key and
     * process at a time; resolves when every check it started or found running has ended, with
     * whether there was any (the rotation may have changed).
     */
    async check(model: ModelSpec, resources: readonly KeyResource[]): Promise<boolean> {
      const adapter = deps.registry.adapter(model);
      if (adapter.checkKey === undefined) return false;
      const checkKey = adapter.checkKey.bind(adapter);
      const now = Date.now();
      const runs = resources.flatMap((r) => {
        const id = local(model, r);
        if (proven.has(id) || onTrial.has(id)) return [];
        const running = checking.get(id);
        if (running !== undefined) return [running];
        if (now - (checkedAt.get(id) ?? 0) < RECHECK_MS) return [];
        const run = checkOne(model, r, id, checkKey).finally(() => checking.delete(id));
        checking.set(id, run);
        return [run];
      });
      await Promise.all(runs);
      return runs.length > 0;
    },
  };

  async function checkOne(
    model: ModelSpec,
    resource: KeyResource,
    id: string,
    checkKey: (apiKey: string, timeoutMs: number) => Promise<boolean>,
  ): Promise<void> {
    try {
      if (await checkKey(resource.apiKey, CHECK_TIMEOUT_MS)) {
        markProven(model, resource, id);
        return;
      }
    } catch (err) {
      // The provider refused the key: out of rotation before any image call. One line per refused
      // check, as per refused image call (the provider's message; it shows a key masked at most).
      const e = toProviderError(err);
      deps.logger.warn({ provider: model.provider, key_id: keyId(resource.apiKey), code: e.code }, e.message);
      proven.delete(id);
      await revoke(model, resource, keyRefusalReason(e)).catch((revokeErr: unknown) => {
        deps.logger.warn(
          { err: revokeErr, provider: model.provider },
          'could not take a refused key out of rotation',
        );
      });
    }
    checkedAt.set(id, Date.now());
  }

  /** Takes the key out of rotation for every model of the provider; one warning per mark. */
  async function revoke(model: ModelSpec, resource: KeyResource, reason: string): Promise<void> {
    const id = keyId(resource.apiKey);
    refused.set(local(model, resource), Date.now() + REFUSED_HERE_MS);
    if (await revocations.revoke(model.provider, id, reason))
      deps.logger.warn(
        { provider: model.provider, model: model.id, key_id: id, reason },
        'API key refused by the provider (invalid, revoked or forbidden): out of rotation for every model of the provider',
      );
  }

  /** The key answered (anything but a refusal): proven here, and in Redis for the other workers. */
  function markProven(model: ModelSpec, resource: KeyResource, id: string): void {
    const recorded = proven.get(id);
    if (recorded !== undefined && Date.now() - recorded < REFRESH_MS) return;
    proven.set(id, Date.now());
    revocations.markProven(model.provider, keyId(resource.apiKey)).catch((err: unknown) => {
      deps.logger.warn({ err, provider: model.provider }, 'could not record a proven key');
    });
  }
}

export type KeyRotation = ReturnType<typeof createKeyRotation>;
