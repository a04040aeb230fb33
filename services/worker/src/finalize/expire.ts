import { enqueue, type FinalizeJob, generateJobId, jobs } from '@pixelmill/core';
import type { WorkerDeps } from '../deps.js';

/**
 * A batch's deadline (`expires_at`) passed: its queued items end `expired` and their jobs leave the
 * queues; running items finish. Items this scan misses are expired by the gate when a worker picks
 * them up (gateItem-3.lua), so a late or repeated run is harmless.
 */
export async function expireBatch(deps: WorkerDeps, data: FinalizeJob): Promise<void> {
  const found = await deps.store.getBatchInternal(data.batch_id);
  if (found === null || found.batch.completed_at !== null) return;
  const queues = (found.spec.models ?? [found.spec.model]).map((m) => deps.queues.generate(m));
  let last = false;
  let expired = 0;
  for await (const window of deps.store.closeQueued(data.batch_id, 'expired')) {
    await Promise.all(
      window.closed.flatMap((c) =>
        queues.map((q) => q.remove(generateJobId(c.itemId, c.retries)).catch(() => 0)),
      ),
    );
    expired += window.closed.length;
    if (window.last) last = true;
  }
  deps.logger.info({ batch_id: data.batch_id, expired }, 'batch deadline passed');
  if (last) await enqueue(deps.queues, jobs.finalize, { batch_id: data.batch_id, tenant_id: data.tenant_id });
}
