import { batchFileKey, type FinalizeJob, finalizeJobSchema } from '@pixelmill/core';
import type { Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { expireBatch } from './expire.js';
import { manifestLines } from './manifest.js';
import { resultsCsv } from './results.js';

/**
 * Runs once per batch, after its last item ended: writes manifest.jsonl and results.csv and marks the
 * batch completed. Completing records batch.completed (or batch.cancelled) in the outbox in the same
 * step (completeBatch-2.lua); the relay sends it. Safe to run again: every step is idempotent.
 */
export function createFinalizeProcessor(deps: WorkerDeps) {
  return async function finalize(job: Job<FinalizeJob>): Promise<void> {
    const data = finalizeJobSchema.parse(job.data);
    const startedAt = Date.now();
    // The same queue carries a batch's deadline (scheduled at acceptance for `expires_at`).
    if (job.name === 'expire') return expireBatch(deps, data);
    const found = await deps.store.getBatchInternal(data.batch_id);
    if (found === null) return;
    const where = {
      root: found.spec.output.root ?? '',
      prefix: found.spec.output.prefix,
      batchId: data.batch_id,
    };
    const manifestKey = batchFileKey(where, 'manifest.jsonl');
    const resultsKey = batchFileKey(where, 'results.csv');
    // Both read the items page by page and stream to the bucket: side by side, the batch is done sooner.
    await Promise.all([
      deps.objects.putStream(manifestKey, manifestLines(deps.store, data.batch_id), 'application/x-ndjson'),
      deps.objects.putStream(
        resultsKey,
        resultsCsv(deps.store, data.batch_id, (key) =>
          deps.objects.presignGet(key, deps.options.presignTtlS),
        ),
        'text/csv',
      ),
    ]);
    // Refused when a retry re-opened the batch meanwhile: that round finalizes it again.
    if (!(await deps.store.completeBatch(data.batch_id, manifestKey, resultsKey))) return;
    deps.logger.info(
      {
        batch_id: data.batch_id,
        counts: found.batch.counts,
        // Since the last item ended (the job was queued then), and of that, writing the files.
        finalize_ms: Date.now() - job.timestamp,
        files_ms: Date.now() - startedAt,
      },
      'batch completed',
    );
  };
}
