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
