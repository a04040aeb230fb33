import type { Redis } from 'ioredis';
import type { ItemOutput } from '../schemas/batch.js';
import { type StoreKeys, storeKeys } from './keys.js';

/** What a later identical request needs to reuse a generation: where its images are and what they are. */
export interface ReusableGeneration {
  batch_id: string;
  item_id: string;
  custom_id: string;
  outputs: Pick<ItemOutput, 'index' | 'key' | 'content_type' | 'width' | 'height' | 'bytes' | 'sha256'>[];
}

/** How long a generation stays reusable (its objects may be deleted sooner: reuse then falls back to generating). */
const REUSE_TTL_S = 30 * 24 * 3600;

/**
 * A tenant's earlier generations by request fingerprint (batches with `dedupe: true`): one key per
 * (tenant, fingerprint), expiring after REUSE_TTL_S.
 */
export class DedupeStore {
  private readonly keys: StoreKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = storeKeys(prefix);
  }

  async find(tenantId: string, fingerprint: string): Promise<ReusableGeneration | null> {
    const raw = await this.redis.get(this.keys.dedupe(tenantId, fingerprint));
    return raw === null ? null : (JSON.parse(raw) as ReusableGeneration);
  }

  async remember(tenantId: string, fingerprint: string, generation: ReusableGeneration): Promise<void> {
    await this.redis.set(
      this.keys.dedupe(tenantId, fingerprint),
      JSON.stringify(generation),
      'EX',
      REUSE_TTL_S,
    );
  }
}
