import { type BatchSpec, batchFileKey, type FinalizeJob, finalizeJobSchema } from '@pixelmill/core';
import type { Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { putBatchFiles } from './batch-files.js';
import { expireBatch } from './expire.js';
import { sweepCancelled } from './sweep-cancelled.js';

/**
 * Runs once per batch, after its last item ended: writes manifest.jsonl and results.csv and marks the
 * batch completed. Completing records batch.completed (or batch.cancelled) in the outbox in the same
 * step (completeBatch-2.lua); the relay sends it. Safe to run again: every step is idempotent.
 */
export function createFinalizeProcessor(deps: WorkerDeps) {
  return async function finalize(job: Job<FinalizeJob>): Promise<void> {
    const data = finalizeJobSchema.parse(job.data);
    const startedAt = Date.now();
    // The same queue carries a batch's deadline (scheduled at acceptance for `expires_at`), the
    // rewrite of a completed batch's files after a review and the removal of a cancelled batch's jobs.
    if (job.name === 'expire') return expireBatch(deps, data);
    if (job.name === 'refresh-files') return refreshFiles(deps, data);
    if (job.name === 'sweep-cancelled') return sweepCancelled(deps, data);
    const found = await deps.store.getBatchInternal(data.batch_id);
    if (found === null) return;
    const { manifestKey, resultsKey } = await writeFiles(deps, data.batch_id, found.spec);
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

/** Writes manifest.jsonl and results.csv of the batch as its items are now. */
async function writeFiles(
  deps: WorkerDeps,
  batchId: string,
  spec: BatchSpec,
): Promise<{ manifestKey: string; resultsKey: string }> {
  const where = { root: spec.output.root ?? '', prefix: spec.output.prefix, batchId };
  const manifestKey = batchFileKey(where, 'manifest.jsonl');
  const resultsKey = batchFileKey(where, 'results.csv');
  await putBatchFiles(
    deps.objects,
    deps.store,
    batchId,
    { manifest: manifestKey, results: resultsKey },
    (key) => deps.objects.presignGet(key, deps.options.presignTtlS),
  );
  return { manifestKey, resultsKey };
}

/**
 * A review or choice changed an item of a completed batch: its files are written again, so they say
 * what is approved and chosen. Only the newest change's job writes (an older one finds a newer count);
 * a batch not completed (re-opened, or never ended) writes its files when it completes.
 */
async function refreshFiles(deps: WorkerDeps, data: FinalizeJob): Promise<void> {
  if (data.change !== undefined && (await deps.store.filesChanges(data.batch_id)) > data.change) return;
  const found = await deps.store.getBatchInternal(data.batch_id);
  if (found === null || found.batch.completed_at === null) return;
  await writeFiles(deps, data.batch_id, found.spec);
  deps.logger.debug({ batch_id: data.batch_id, change: data.change }, 'batch files rewritten after a review');
}
