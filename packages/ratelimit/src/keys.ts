/**
 * @module Redis key names. Every key of a limiter starts with its prefix, so tests and tenants
 * can be isolated and cleaned up by prefix. Not Redis Cluster aware: pickAndAcquire touches the
 * keys of several resources in one script, which needs them on one node.
 */

export interface ResourceKeys {
  cfg: string;
  win: string;
  leases: string;
}

export function resourceKeys(prefix: string, resourceId: string): ResourceKeys {
  const base = `${prefix}:res:${resourceId}`;
  return { cfg: `${base}:cfg`, win: `${base}:win`, leases: `${base}:leases` };
}

export function circuitKey(prefix: string, id: string): string {
  return `${prefix}:circuit:${id}`;
}
