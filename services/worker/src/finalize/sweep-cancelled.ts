import { type FinalizeJob, generateJobId } from '@pixelmill/core';
import type { WorkerDeps } from '../deps.js';

/**
 * A batch was cancelled: the jobs of its cancelled items, and any job of an older retry round than
 * its item's, leave their queues, 1,000 items a pipeline (the cancel request ended the items and left
 * the jobs). A job a worker already holds stays and is dropped at the gate, as is any job this sweep
 * misses; running it again is harmless.
 */
export async function sweepCancelled(
  deps: Pick<WorkerDeps, 'store' | 'queues' | 'logger'>,
  data: FinalizeJob,
): Promise<void> {
  const found = await deps.store.getBatchInternal(data.batch_id);
  if (found === null) return;
  const queues = (found.spec.models ?? [found.spec.model]).map((m) => deps.queues.generate(m));
  let removed = 0;
  for await (const ids of deps.store.itemIds(data.batch_id)) {
    const rounds = await deps.store.itemRounds(ids);
    // Jobs of rounds before the item's are stale whatever its status; a cancelled item's own job too.
    const jobIds = ids.flatMap((id, i) => {
      const r = rounds[i];
      if (r === null || r === undefined) return [];
      const upTo = r.status === 'cancelled' ? r.round : r.round - 1;
      return Array.from({ length: upTo + 1 }, (_, round) => generateJobId(id, round));
    });
    const results = await Promise.all(
      jobIds.flatMap((jobId) => queues.map((q) => q.remove(jobId).catch(() => 0))),
    );
    removed += results.filter((r) => r === 1).length;
  }
  deps.logger.info({ batch_id: data.batch_id, removed }, 'jobs of cancelled items removed');
}
