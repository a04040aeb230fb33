import type { Redis } from 'ioredis';
import { storeKeyPrefix, storeKeys } from './keys.js';
import { runScript } from './scripts.js';

/** A tenant's quotas; 0 means unlimited. */
export interface TenantLimits {
  maxOpenBatches: number;
  maxQueuedItems: number;
  itemsPerMinute: number;
}

export type QuotaName = 'max_open_batches' | 'max_queued_items' | 'items_per_minute';

export type Reservation = { ok: true } | { ok: false; quota: QuotaName; inUse: number; retryAfterMs: number };

/** An unpublished batch reserved longer ago than this belongs to an ingest that died: it stops counting. */
export const ABANDONED_INGEST_MS = 60 * 60_000;

/**
 * Per-tenant quotas of batch acceptance (reserveQuota-2.lua). The counts are derived from the tenant's
 * open batches (their queued and running counts, kept by the item scripts), so nothing has to be
 * decremented when items end or batches complete: this store only remembers which batches are open
 * and what was submitted in the last window.
 */
export class QuotaStore {
  private readonly batchPrefix: string;
  /** Under the store's hash tag: reserveQuota-2.lua reads the tenant's batches by this prefix. */
  private readonly prefix: string;

  constructor(
    readonly redis: Redis,
    deploymentPrefix: string,
    /** The items-per-minute window; only tests shorten it. */
    readonly windowMs = 60_000,
  ) {
    this.prefix = storeKeyPrefix(deploymentPrefix);
    this.batchPrefix = storeKeys(deploymentPrefix).batch('');
  }

  /** Batch id -> "<items reserved>:<ms>" of the tenant's batches that may still be open. */
  openKey(tenantId: string): string {
    return `${this.prefix}:quota:${tenantId}:open`;
  }

  /** The tenant's submissions of the last window: "<batch id>:<items>" scored by time. */
  windowKey(tenantId: string): string {
    return `${this.prefix}:quota:${tenantId}:window`;
  }

  /**
   * Checks and reserves the tenant's quotas for this batch in one step. `items` 0 (a streamed batch
   * whose count is not known yet) reserves the open batch and checks that one more item fits; calling
   * again with the final count updates the reservation.
   */
  async reserve(
    tenantId: string,
    batchId: string,
    items: number,
    limits: TenantLimits,
  ): Promise<Reservation> {
    const [quota, inUse, retryAfterMs] = (await runScript(
      this.redis,
      'reserveQuota-2',
      [this.openKey(tenantId), this.windowKey(tenantId)],
      [
        this.batchPrefix,
        batchId,
        items,
        limits.maxOpenBatches,
        limits.maxQueuedItems,
        limits.itemsPerMinute,
        this.windowMs,
        ABANDONED_INGEST_MS,
      ],
    )) as [string, number, number];
    if (quota === 'ok') return { ok: true };
    return { ok: false, quota: quota as QuotaName, inUse: Number(inUse), retryAfterMs: Number(retryAfterMs) };
  }

  /** Undoes `reserve` for a batch that was not accepted. */
  async release(tenantId: string, batchId: string): Promise<void> {
    await runScript(
      this.redis,
      'releaseQuota-2',
      [this.openKey(tenantId), this.windowKey(tenantId)],
      [batchId],
    );
  }

  /** Counts a published batch as open again (a retry re-opened it); its items count from its own counts. */
  async track(tenantId: string, batchId: string): Promise<void> {
    await this.redis.hsetnx(this.openKey(tenantId), batchId, `0:${Date.now()}`);
  }
}
