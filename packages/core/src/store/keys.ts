/** Every Redis key pixelmill writes outside BullMQ, under one prefix so tests can share a Redis. */
export function storeKeys(prefix: string) {
  return {
    batch: (batchId: string) => `${prefix}:batch:${batchId}`,
    batchItems: (batchId: string) => `${prefix}:batch:${batchId}:items`,
    item: (itemId: string) => `${prefix}:item:${itemId}`,
    tenantBatches: (tenantId: string) => `${prefix}:tenant:${tenantId}:batches`,
    /** Every tenant with a listed batch (a set), so that walking all batches needs no SCAN. */
    tenants: () => `${prefix}:tenants`,
    idempotency: (tenantId: string, key: string) => `${prefix}:idem:${tenantId}:${key}`,
    /** custom_id → where it was first seen, while one ingest runs (duplicate detection); deleted after. */
    ingestIds: (batchId: string) => `${prefix}:batch:${batchId}:ingest-ids`,
    /** The jobs an ingest will create once its whole upload is valid ("lane\tmodel\titem id"); deleted after. */
    ingestJobs: (batchId: string) => `${prefix}:batch:${batchId}:ingest-jobs`,
    /** A tenant's earlier generation of one exact request (batch `dedupe`). */
    dedupe: (tenantId: string, fingerprint: string) => `${prefix}:dedupe:${tenantId}:${fingerprint}`,
    /** One provider batch job of the economy lane: intent, provider id, polls (economy-store.ts). */
    economyJob: (batchId: string, pack: number) => `${prefix}:econ:${batchId}:${pack}`,
    /** Economy results that arrived for an item whose image was already stored (first result wins). */
    economyDuplicates: () => `${prefix}:econ:duplicates`,
    /** Item and batch ends waiting to become webhook events (a stream; see outbox-store.ts). */
    outbox: () => `${prefix}:outbox`,
  };
}
export type StoreKeys = ReturnType<typeof storeKeys>;
