/** Every Redis key pixelmill writes outside BullMQ, under one prefix so tests can share a Redis. */
export function storeKeys(prefix: string) {
  return {
    batch: (batchId: string) => `${prefix}:batch:${batchId}`,
    batchItems: (batchId: string) => `${prefix}:batch:${batchId}:items`,
    item: (itemId: string) => `${prefix}:item:${itemId}`,
    tenantBatches: (tenantId: string) => `${prefix}:tenant:${tenantId}:batches`,
    idempotency: (tenantId: string, key: string) => `${prefix}:idem:${tenantId}:${key}`,
  };
}
export type StoreKeys = ReturnType<typeof storeKeys>;
