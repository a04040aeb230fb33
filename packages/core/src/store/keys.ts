/**
 * Where every store key lives: under the deployment's prefix (so tests can share a Redis) and in one
 * Redis Cluster hash slot, tag `{store}`. One slot, because the store's scripts and transactions
 * touch an item, its batch, the tenant lists and the outbox stream at once (docs/design.md "Redis
 * Cluster": the whole store is on one master; queues and limiter keys spread).
 */
export const storeKeyPrefix = (deploymentPrefix: string): string => `${deploymentPrefix}:{store}`;

/** Every Redis key pixelmill writes outside BullMQ and the limiter (see storeKeyPrefix). */
export function storeKeys(deploymentPrefix: string) {
  const prefix = storeKeyPrefix(deploymentPrefix);
  return {
    batch: (batchId: string) => `${prefix}:batch:${batchId}`,
    batchItems: (batchId: string) => `${prefix}:batch:${batchId}:items`,
    /** Each item's spec, at its position in the item list (an item not yet fed has no record). */
    batchSpecs: (batchId: string) => `${prefix}:batch:${batchId}:specs`,
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
    /** Batches with items the feeder may still queue for a model (a set; see feeder/feeder.ts). */
    feedSet: (model: string) => `${prefix}:feed:${model}`,
    /** Feeds whose jobs may not be added yet, per model (token -> "<batch>\n<item>:<round>,..."). */
    feedPending: (model: string) => `${prefix}:feed-pending:${model}`,
    /** Item and batch ends waiting to become webhook events (a stream; see outbox-store.ts). */
    outbox: () => `${prefix}:outbox`,
  };
}
export type StoreKeys = ReturnType<typeof storeKeys>;
