import { type FinalizeJob, finalizeJobSchema, messageIdFor } from '@pixelmill/core';
import { normalizePrefix } from '@pixelmill/storage';
import type { Job } from 'bullmq';
import { enqueueDelivery } from '../deliver/enqueue.js';
import type { WorkerDeps } from '../deps.js';
import { manifestLines } from './manifest.js';

/**
 * Runs once per batch, after its last item ended: writes manifest.jsonl, marks the batch completed
 * and queues the batch.completed webhook. Safe to run again: every step is idempotent.
 */
export function createFinalizeProcessor(deps: WorkerDeps) {
  return async function finalize(job: Job<FinalizeJob>): Promise<void> {
    const data = finalizeJobSchema.parse(job.data);
    const found = await deps.store.getBatchInternal(data.batch_id);
    if (found === null) return;
    const manifestKey = `${normalizePrefix(found.spec.output.prefix)}${data.batch_id}/manifest.jsonl`;
    await deps.objects.putStream(
      manifestKey,
      manifestLines(deps.store, data.batch_id),
      'application/x-ndjson',
    );
    await deps.store.completeBatch(data.batch_id, manifestKey);
    deps.logger.info({ batch_id: data.batch_id, counts: found.batch.counts }, 'batch completed');

    const webhook = found.spec.webhook;
    if (webhook === null || !webhook.events.includes('batch.completed')) return;
    const batch = await deps.store.getBatch(found.tenantId, data.batch_id);
    if (batch === null) return;
    const manifestUrl = await deps.objects.presignGet(manifestKey, deps.options.presignTtlS);
    const webhookId = messageIdFor('batch.completed', data.batch_id);
    await enqueueDelivery(deps, {
      tenantId: found.tenantId,
      batchId: data.batch_id,
      eventType: 'batch.completed',
      webhookId,
      url: webhook.url,
      payload: { ...batch, manifest_url: manifestUrl },
    });
  };
}
