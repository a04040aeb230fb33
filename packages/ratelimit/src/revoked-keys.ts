/**
 * @module Provider keys out of rotation: a key the provider refused as invalid, revoked or forbidden
 * is marked once per provider + key (every model of the provider shares the key), in Redis, so every
 * worker skips it. The mark names the key by its keyId (a hash), never by the key, and lapses after
 * its time to live, when the key gets one call again (the operator may have fixed it at the provider).
 * A key some worker saw answered normally is marked proven for PROVEN_MS, so a worker that starts
 * later (a restart, a scale-up) uses it at full concurrency instead of trying it with one call first.
 */
import type { Redis } from 'ioredis';
import { nonEmpty, positiveInt } from './validate.js';

/** A mark lasts this long unless told otherwise: one call per hour to a key that stays revoked. */
export const DEFAULT_REVOKED_MS = 60 * 60_000;

/** A proven mark lasts this long after the last normal answer a worker recorded. */
const PROVEN_MS = 10 * 60_000;

export interface KeyRevocation {
  keyId: string;
  /** Epoch ms of the refusal that marked it. */
  since: number;
  /** Epoch ms when the mark lapses. */
  until: number;
  /** The provider's own code for the refusal (e.g. API_KEY_INVALID, invalid_api_key). */
  reason: string;
}

export interface KeyRevocations {
  /** How long a mark lasts. */
  readonly ttlMs: number;
  /** Marks the key; true only for the call that placed the mark (the one to report it). */
  revoke(provider: string, keyId: string, reason: string): Promise<boolean>;
  /** The marks among these keys of the provider, by keyId. */
  revoked(provider: string, keyIds: readonly string[]): Promise<Map<string, KeyRevocation>>;
  /** Takes the key back into rotation at once. */
  restore(provider: string, keyId: string): Promise<void>;
  /** Records that the key answered normally (anything but a refusal of the key). */
  markProven(provider: string, keyId: string): Promise<void>;
  /** Which of these keys some worker saw answered normally within PROVEN_MS. */
  proven(provider: string, keyIds: readonly string[]): Promise<Set<string>>;
}

// One hash slot per provider for each kind of mark: revoked() and proven() read a provider's keys
// with one MGET, which a Redis Cluster serves only within one slot.
function revokedKeyName(prefix: string, provider: string, keyId: string): string {
  return `${prefix}:revoked:{${provider}}|${keyId}`;
}

function provenKeyName(prefix: string, provider: string, keyId: string): string {
  return `${prefix}:proven:{${provider}}|${keyId}`;
}

export function createKeyRevocations(
  redis: Redis,
  opts: { prefix: string; ttlMs?: number; now?: () => number },
): KeyRevocations {
  const prefix = nonEmpty('prefix', opts.prefix);
  const ttlMs = positiveInt('ttlMs', opts.ttlMs ?? DEFAULT_REVOKED_MS);
  const now = opts.now ?? Date.now;
  const name = (provider: string, keyId: string) =>
    revokedKeyName(prefix, nonEmpty('provider', provider), nonEmpty('keyId', keyId));
  return {
    ttlMs,
    async revoke(provider, keyId, reason) {
      const since = now();
      const value = JSON.stringify({ since, until: since + ttlMs, reason });
      // NX: a key refused by several calls at once is marked (and reported) once.
      const placed = (await redis.set(name(provider, keyId), value, 'PX', ttlMs, 'NX')) === 'OK';
      await redis.del(provenKeyName(prefix, provider, keyId));
      return placed;
    },
    async revoked(provider, keyIds) {
      const out = new Map<string, KeyRevocation>();
      if (keyIds.length === 0) return out;
      const values = await redis.mget(...keyIds.map((k) => name(provider, k)));
      keyIds.forEach((keyId, i) => {
        const raw = values[i];
        if (raw === null || raw === undefined) return;
        const v = JSON.parse(raw) as Omit<KeyRevocation, 'keyId'>;
        out.set(keyId, { keyId, since: v.since, until: v.until, reason: v.reason });
      });
      return out;
    },
    async restore(provider, keyId) {
      await redis.del(name(provider, keyId));
    },
    async markProven(provider, keyId) {
      await redis.set(provenKeyName(prefix, provider, keyId), '1', 'PX', PROVEN_MS);
    },
    async proven(provider, keyIds) {
      const out = new Set<string>();
      if (keyIds.length === 0) return out;
      const values = await redis.mget(...keyIds.map((k) => provenKeyName(prefix, provider, k)));
      keyIds.forEach((keyId, i) => {
        if (values[i] !== null && values[i] !== undefined) out.add(keyId);
      });
      return out;
    },
  };
}
