/**
 * @module Redis key names. Every key of a limiter starts with its prefix, so tests and tenants
 * can be isolated and cleaned up by prefix.
 *
 * Redis Cluster: a resource's keys carry its group as their hash tag, the resource id up to its
 * last `|` (`provider|model` of `provider|model|keyId`; the whole id when it has no `|`). One
 * model's API keys thus share a slot, as pickAndAcquire-3n.lua needs (it weighs them in one call),
 * while different models spread over the cluster.
 */

export interface ResourceKeys {
  cfg: string;
  win: string;
  leases: string;
}

/** The hash tag of a resource: the part of its id that names the group it is picked among. */
function resourceGroup(resourceId: string): string {
  const cut = resourceId.lastIndexOf('|');
  return cut > 0 ? resourceId.slice(0, cut) : resourceId;
}

export function resourceKeys(prefix: string, resourceId: string): ResourceKeys {
  const group = resourceGroup(resourceId);
  const base = `${prefix}:res:{${group}}${resourceId.slice(group.length)}`;
  return { cfg: `${base}:cfg`, win: `${base}:win`, leases: `${base}:leases` };
}

/** One key per breaker (a model): its scripts touch nothing else. */
export function circuitKey(prefix: string, id: string): string {
  return `${prefix}:circuit:${id}`;
}
