import type { BatchSpec, BatchStore } from '@pixelmill/core';

/** A batch's spec never changes after acceptance, so workers keep recent ones in memory. */
export class BatchSpecCache {
  private readonly entries = new Map<string, BatchSpec>();

  constructor(
    private readonly store: BatchStore,
    private readonly capacity = 1000,
  ) {}

  async get(batchId: string): Promise<BatchSpec | null> {
    const hit = this.entries.get(batchId);
    if (hit !== undefined) return hit;
    const found = await this.store.getBatchInternal(batchId);
    if (found === null) return null;
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(batchId, found.spec);
    return found.spec;
  }
}
