export * from './errors.js';
export {
  CLASS_COST,
  createFairScheduler,
  type FairFlow,
  type FairJob,
  type FairQueueState,
  type FairScheduler,
  type FairSchedulerOptions,
  flowName,
  MAX_BULLMQ_PRIORITY,
  type PriorityClass,
} from './fair-queue/fair-queue.js';
export { type EnqueueBatch, type EnqueueDeps, enqueueItems } from './feeder/enqueue-items.js';
export {
  batchModelsOf,
  type FeedBatch,
  type FeederDeps,
  type FeedStepDeps,
  feedBatch,
  feedBatchOf,
  feedModel,
  feedModelsOf,
  recoverPending,
} from './feeder/feeder.js';
export * from './ids.js';
export {
  type EnqueueOptions,
  enqueue,
  generateJobId,
  type JobKind,
  jobFor,
  jobIdOf,
  jobs,
  roundOfGenerateJob,
} from './jobs/catalog.js';
export * from './money.js';
export * from './object-keys.js';
export { Queues, queuePrefix } from './queues.js';
export {
  type ClusterNode,
  connectRedis,
  duplicateConnection,
  isCluster,
  masterNodes,
  type RedisTarget,
  untilReady,
} from './redis/connection.js';
export { scanEveryMaster } from './redis/scan.js';
export * from './retry-after.js';
export * from './schemas/batch.js';
export * from './schemas/batch-request.js';
export * from './schemas/common.js';
export * from './schemas/jobs.js';
export * from './schemas/key-template.js';
export * from './schemas/prompt-template.js';
export * from './schemas/review.js';
export * from './schemas/webhook-endpoint.js';
export { finishedWithin, shutdownInOrder } from './shutdown.js';
export { BatchSpecCache } from './store/batch-spec-cache.js';
export {
  BatchStore,
  type IngestJob,
  InvalidCursorError,
  type ItemFilter,
  type ItemLease,
  type NewItem,
  type Page,
} from './store/batch-store.js';
export { csvSafe } from './store/csv-safe.js';
export { DedupeStore, type ReusableGeneration } from './store/dedupe-store.js';
export { DeliveryRateLimit } from './store/delivery-rate.js';
export {
  type Delivery,
  type DeliveryAttempt,
  type DeliveryClaim,
  type DeliveryFailureReason,
  type DeliveryInternal,
  type DeliveryStatus,
  DeliveryStore,
  type DeliveryToSend,
  type PendingDeliveries,
} from './store/delivery-store.js';
export { type EconomyRecord, EconomyStore } from './store/economy-store.js';
export {
  DISABLE_FAILING_AFTER_MS,
  type EndpointDisabledReason,
  type EndpointInternal,
  type EndpointPatch,
  EndpointStore,
  type EndpointToSend,
  type NewEndpoint,
  ROTATION_OVERLAP_MS,
  signingSecrets,
  type WebhookEndpoint,
} from './store/endpoint-store.js';
export { type FedItem, FeedStore, type PendingFeed } from './store/feed-store.js';
export { storeKeys } from './store/keys.js';
export {
  type BatchEndEntry,
  type ItemChangeEntry,
  type ItemEndEntry,
  OUTBOX_GROUP,
  type OutboxEntry,
  OutboxStore,
} from './store/outbox-store.js';
export {
  dhashChunks,
  hammingDistance,
  MAX_INDEXED_DISTANCE,
  type NearDuplicate,
  QaIndexStore,
} from './store/qa-index-store.js';
export {
  ABANDONED_INGEST_MS,
  type QuotaName,
  QuotaStore,
  type Reservation,
  type TenantLimits,
} from './store/quota-store.js';
export { type BatchSpec, type ItemSpec, newestOutputs, qaSummary } from './store/records.js';
export { RESULT_LIST_SEPARATOR, resultColumns, resultRow, resultRows } from './store/results.js';
export * from './text-lines.js';
export * from './validation.js';
