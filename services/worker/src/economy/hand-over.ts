import { enqueueItems, type Item, type Priority } from '@pixelmill/core';
import type { WorkerDeps } from '../deps.js';

/**
 * Moves an economy item to the realtime lane (a retryable per-line error, a line the provider never
 * ran): its lane becomes `realtime` and a generation job is queued on its model's queue, where the
 * realtime path stores what is still missing. Idempotent: one job id per item.
 */
export async function handToRealtime(
  deps: WorkerDeps,
  batch: { id: string; tenantId: string; priority: Priority },
  item: Item,
): Promise<void> {
  await deps.store.setItemLane(item.id, 'realtime');
  await enqueueItems({ ...deps, itemAttempts: deps.options.itemAttempts }, batch, [
    { id: item.id, model: item.model, round: 0 },
  ]);
}
