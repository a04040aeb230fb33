import type { BatchStore } from './batch-store.js';
import type { BatchSpec } from './records.js';

/**
 * A batch's spec (and tenant) never changes after acceptance, so workers keep the most recent ones in
 * memory: at most `capacity`, the oldest read from Redis dropped first.
 */
export class BatchSpecCache {
  private readonly entries = new Map<string, { tenantId: string; spec: BatchSpec }>();

  constructor(
    private readonly store: BatchStore,
    private readonly capacity = 1000,
  ) {}

  /** The batch's tenant and spec, or null when there is no such batch. */
  async entry(batchId: string): Promise<{ tenantId: string; spec: BatchSpec } | null> {
    const hit = this.entries.get(batchId);
    if (hit !== undefined) return hit;
    const found = await this.store.getBatchInternal(batchId);
    if (found === null) return null;
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const entry = { tenantId: found.tenantId, spec: found.spec };
    this.entries.set(batchId, entry);
    return entry;
  }

  async get(batchId: string): Promise<BatchSpec | null> {
    return (await this.entry(batchId))?.spec ?? null;
  }
}
