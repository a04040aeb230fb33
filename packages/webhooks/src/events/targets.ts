/**
 * @module Where an event of a batch goes: the batch's own `webhook` and the tenant's enabled
 * endpoints that subscribe to it. Resolved on every item end, so both parts are cached in process:
 * batch specs never change, and a tenant's endpoint list is re-read only when its version key moved.
 */
import {
  type BatchSpec,
  BatchSpecCache,
  EndpointStore,
  ITEM_GROUP_DEFAULTS,
  type WebhookEndpoint,
  type WebhookEventType,
} from '@pixelmill/core';
import type { Redis } from 'ioredis';
import type { EventDeps } from './event-deps.js';

/**
 * `id` is `"batch"` for the batch's own webhook, else the endpoint id. `events` are exactly the types
 * it receives; the group settings apply to its `items.completed` events.
 */
export interface EventTarget {
  id: string;
  endpointId: string | null;
  url: string;
  events: readonly WebhookEventType[];
  groupMaxItems: number;
  groupMaxWaitS: number;
}

const BATCH_TARGET = 'batch';

interface Caches {
  specs: BatchSpecCache;
  endpoints: Map<string, { version: string; targets: EventTarget[] }>;
}

const caches = new WeakMap<Redis, Caches>();

function cachesOf(deps: EventDeps): Caches {
  let c = caches.get(deps.redis);
  if (c === undefined) {
    c = { specs: new BatchSpecCache(deps.store), endpoints: new Map() };
    caches.set(deps.redis, c);
  }
  return c;
}

const batchSpec = (deps: EventDeps, batchId: string) => cachesOf(deps).specs.entry(batchId);

function batchWebhookTarget(spec: BatchSpec): EventTarget | null {
  if (spec.webhook === null) return null;
  return {
    id: BATCH_TARGET,
    endpointId: null,
    url: spec.webhook.url,
    events: spec.webhook.events,
    groupMaxItems: ITEM_GROUP_DEFAULTS.maxItems,
    groupMaxWaitS: ITEM_GROUP_DEFAULTS.maxWaitS,
  };
}

/** A tenant endpoint as a target. */
function endpointTarget(e: WebhookEndpoint): EventTarget {
  return {
    id: e.id,
    endpointId: e.id,
    url: e.url,
    events: e.events,
    groupMaxItems: e.item_group_max_items,
    groupMaxWaitS: e.item_group_max_wait_s,
  };
}

async function endpointTargets(deps: EventDeps, tenantId: string): Promise<EventTarget[]> {
  const endpoints = new EndpointStore(deps.redis, deps.queues.prefix);
  const { endpoints: cache } = cachesOf(deps);
  const version = await endpoints.version(tenantId);
  const hit = cache.get(tenantId);
  if (hit !== undefined && hit.version === version) return hit.targets;
  const targets =
    version === '0'
      ? []
      : (await endpoints.listInternal(tenantId))
          .filter((e) => e.endpoint.enabled)
          .map(({ endpoint }) => endpointTarget(endpoint));
  cache.set(tenantId, { version, targets });
  return targets;
}

/** Every target of a batch's events, before filtering by event type. */
export async function resolveTargets(
  deps: EventDeps,
  batchId: string,
): Promise<{ tenantId: string; spec: BatchSpec; targets: EventTarget[] } | null> {
  const found = await batchSpec(deps, batchId);
  if (found === null) return null;
  const own = batchWebhookTarget(found.spec);
  const targets = [...(own ? [own] : []), ...(await endpointTargets(deps, found.tenantId))];
  return { ...found, targets };
}

/** One target by id, fresh from Redis (flushing needs current settings); null when gone or disabled. */
export async function currentTarget(
  deps: EventDeps,
  batchId: string,
  targetId: string,
): Promise<EventTarget | null> {
  if (targetId === BATCH_TARGET) {
    const found = await batchSpec(deps, batchId);
    return found === null ? null : batchWebhookTarget(found.spec);
  }
  const found = await new EndpointStore(deps.redis, deps.queues.prefix).getInternal(targetId);
  if (found === null || !found.endpoint.enabled) return null;
  return endpointTarget(found.endpoint);
}
