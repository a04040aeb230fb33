import type { Env, TenantQuotaConfig } from '@pixelmill/config';
import type { QuotaName, QuotaStore, Reservation, TenantLimits } from '@pixelmill/core';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';

/** Per-tenant quotas of acceptance (api.md "Tenant quotas"): defaults, overrides and their store. */
export interface TenantQuotas {
  store: QuotaStore;
  /** PIXELMILL_TENANT_* (0 = unlimited). */
  defaults: TenantLimits;
  /** The tenants section of PIXELMILL_CONFIG: a field given replaces the default for that tenant. */
  overrides: Record<string, Partial<TenantLimits>>;
}

/**
 * Retry-After of a refusal for open batches or queued items: when a batch completes is not known, so
 * this is a polling hint. The items-per-minute refusal gives the exact wait instead.
 */
const QUOTA_RETRY_HINT_S = 30;

/** The quotas of PIXELMILL_TENANT_* and the tenants section of PIXELMILL_CONFIG. */
export function tenantQuotasFrom(
  store: QuotaStore,
  env: Pick<
    Env,
    | 'PIXELMILL_TENANT_MAX_OPEN_BATCHES'
    | 'PIXELMILL_TENANT_MAX_QUEUED_ITEMS'
    | 'PIXELMILL_TENANT_ITEMS_PER_MINUTE'
  >,
  tenants: Record<string, TenantQuotaConfig> = {},
): TenantQuotas {
  const overrides: Record<string, Partial<TenantLimits>> = {};
  for (const [tenantId, t] of Object.entries(tenants)) {
    overrides[tenantId] = {
      ...(t.max_open_batches !== undefined ? { maxOpenBatches: t.max_open_batches } : {}),
      ...(t.max_queued_items !== undefined ? { maxQueuedItems: t.max_queued_items } : {}),
      ...(t.items_per_minute !== undefined ? { itemsPerMinute: t.items_per_minute } : {}),
    };
  }
  return {
    store,
    defaults: {
      maxOpenBatches: env.PIXELMILL_TENANT_MAX_OPEN_BATCHES,
      maxQueuedItems: env.PIXELMILL_TENANT_MAX_QUEUED_ITEMS,
      itemsPerMinute: env.PIXELMILL_TENANT_ITEMS_PER_MINUTE,
    },
    overrides,
  };
}

function limitsOf(quotas: TenantQuotas, tenantId: string): TenantLimits {
  return { ...quotas.defaults, ...quotas.overrides[tenantId] };
}

const limitOf = (limits: TenantLimits, quota: QuotaName): number =>
  quota === 'max_open_batches'
    ? limits.maxOpenBatches
    : quota === 'max_queued_items'
      ? limits.maxQueuedItems
      : limits.itemsPerMinute;

/**
 * Reserves the tenant's quotas for a batch of `items` items (0: a streamed batch, count not known yet;
 * call again with the count before publishing). Throws 413 when the batch can never fit and 429 with
 * Retry-After when it would fit later; a refusal reserves nothing. The caller releases a reservation
 * with `releaseTenantQuota` when acceptance fails for any other reason.
 */
export async function reserveTenantQuota(
  deps: AppDeps,
  tenantId: string,
  batchId: string,
  items: number,
): Promise<void> {
  const quotas = deps.quotas;
  if (quotas === undefined) return;
  const limits = limitsOf(quotas, tenantId);
  for (const quota of ['max_queued_items', 'items_per_minute'] as const) {
    const limit = limitOf(limits, quota);
    if (limit > 0 && items > limit) {
      throw new ApiError(
        413,
        'tenant_quota_exceeded',
        `This batch's ${items} items can never fit the tenant quota ${quota} of ${limit} items; split it into smaller batches`,
      );
    }
  }
  const r = await quotas.store.reserve(tenantId, batchId, items, limits);
  if (r.ok) return;
  deps.logger.info({ tenant_id: tenantId, quota: r.quota, in_use: r.inUse }, 'tenant quota exceeded');
  throw refusal(r, limitOf(limits, r.quota), items);
}

/** Gives back a failed acceptance's reservation (nothing when there was none). */
export async function releaseTenantQuota(deps: AppDeps, tenantId: string, batchId: string): Promise<void> {
  await deps.quotas?.store.release(tenantId, batchId);
}

/** A re-opened batch (retry) counts as open again, with its queued and running items. */
export async function trackReopenedBatch(deps: AppDeps, tenantId: string, batchId: string): Promise<void> {
  await deps.quotas?.store.track(tenantId, batchId);
}

function refusal(r: Extract<Reservation, { ok: false }>, limit: number, items: number): ApiError {
  const adds = items > 0 ? `, and this batch adds ${items}` : '';
  const [message, retryAfterS] =
    r.quota === 'max_open_batches'
      ? [
          `Tenant quota max_open_batches exceeded: at most ${limit} open batches, ${r.inUse} open; retry when one completes or is cancelled`,
          QUOTA_RETRY_HINT_S,
        ]
      : r.quota === 'max_queued_items'
        ? [
            `Tenant quota max_queued_items exceeded: at most ${limit} queued or running items, ${r.inUse} now${adds}; retry when items end`,
            QUOTA_RETRY_HINT_S,
          ]
        : [
            `Tenant quota items_per_minute exceeded: at most ${limit} items submitted per minute, ${r.inUse} in the last minute${adds}`,
            Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
          ];
  return new ApiError(429, 'tenant_quota_exceeded', message, [], { 'retry-after': String(retryAfterS) });
}
