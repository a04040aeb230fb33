import type { GenerateJob, Item } from '@pixelmill/core';
import type { WorkerDeps } from '../deps.js';

/**
 * Removes an item's spooled images without uploading them: its batch was cancelled or the item has
 * ended, so nobody will ever ask for those outputs. Returns how many were dropped.
 */
export async function dropSpooledImages(
  deps: Pick<WorkerDeps, 'spool' | 'logger'>,
  batchId: string,
  customId: string,
  reason: string,
): Promise<number> {
  const dropped = await deps.spool.removeItem(batchId, customId);
  if (dropped.length > 0)
    deps.logger.info(
      { batch_id: batchId, custom_id: customId, indexes: dropped, reason },
      'dropped spooled images without uploading them',
    );
  return dropped.length;
}

/**
 * Drops the spooled images of an item the gate just ended `cancelled` or `expired`. An item that had
 * already ended (a stale duplicate job) keeps them: a failed item's retry uploads them instead of
 * paying for them again; a rolled-back ingest (`missing`) never generated anything.
 */
export async function dropSpoolOfTurnedAway(
  deps: WorkerDeps,
  data: GenerateJob,
  state: string,
): Promise<void> {
  if (state !== 'cancelled' && state !== 'expired') return;
  const item = await deps.store.getItem(data.item_id);
  if (item !== null) await dropSpooledImages(deps, data.batch_id, item.custom_id, `item ${state}`);
}

/**
 * An item found `running` when a worker picks it up was left by a runner that stopped (crash,
 * hand-back at shutdown, an attempt that threw). When its batch has been cancelled since, it is not
 * resumed: its spooled images are dropped here, never uploaded (an upload that kept failing would
 * otherwise start again after every restart), and the caller ends it `cancelled` with the outputs it
 * already has. Returns true for such an item.
 */
export async function isResumedInCancelledBatch(
  deps: WorkerDeps,
  data: GenerateJob,
  item: Item,
): Promise<boolean> {
  if (item.status !== 'running') return false;
  const found = await deps.store.getBatchInternal(data.batch_id);
  if (found === null || (found.batch.status !== 'cancelling' && found.batch.status !== 'cancelled'))
    return false;
  await dropSpooledImages(deps, data.batch_id, item.custom_id, 'batch cancelled');
  return true;
}
