import type { Queues } from './queues.js';

/**
 * Queues a batch's finalize step (manifest, results, completion webhook). Called by whoever ended its
 * last open item: a worker, a cancel, a deadline, a retry that found nothing to do. The job id makes
 * a duplicate call a no-op while the step is waiting or running.
 */
export async function enqueueFinalize(queues: Queues, batchId: string, tenantId: string): Promise<void> {
  await queues.finalize.add(
    'finalize',
    { batch_id: batchId, tenant_id: tenantId },
    {
      jobId: `finalize-${batchId}`,
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
    },
  );
}

/** A refresh of a completed batch's files waits this long, so a burst of reviews is written once. */
const REFRESH_DELAY_MS = 1000;

/**
 * Queues a rewrite of a completed batch's manifest.jsonl and results.csv after a review or a choice
 * changed an item (api.md "Review and versions"). `change` is the batch's change counter after this
 * change (BatchStore.markFilesChanged): a job whose change is no longer the newest does nothing, as
 * a newer one follows it.
 */
export async function enqueueRefreshFiles(
  queues: Queues,
  batchId: string,
  tenantId: string,
  change: number,
): Promise<void> {
  await queues.finalize.add(
    'refresh-files',
    { batch_id: batchId, tenant_id: tenantId, change },
    {
      jobId: `refresh-${batchId}-${change}`,
      delay: REFRESH_DELAY_MS,
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    },
  );
}
