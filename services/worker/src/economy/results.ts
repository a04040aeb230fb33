/**
 * @module Turns the results of an ended provider batch job into item ends, reusing the realtime
 * path's store and end functions: each image is spooled, uploaded, thumbnailed, QA-checked and
 * recorded exactly like a realtime output (same keys), then the item ends with its cost at the batch
 * price. The first result of an image wins: a later one (a re-read after a crash, an item that moved
 * to realtime meanwhile) is logged, counted and dropped.
 */
import type { BatchSpec, EconomyStore, Item } from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';
import type { BatchImageModel, BatchJobStatus, BatchLineResult, ModelSpec } from '@pixelmill/providers';
import type { WorkerDeps } from '../deps.js';
import { endItem } from '../generate/end-item.js';
import { keyPartsOf } from '../generate/output-key.js';
import { stampingModel } from '../generate/scheduling.js';
import { isStorageRefusal, storeGenerated } from '../generate/store-image.js';
import { crashPoint } from '../test-crash.js';
import { handToRealtime } from './hand-over.js';
import { parseLineKey } from './lines.js';

export interface ResultContext {
  deps: WorkerDeps;
  economy: EconomyStore;
  log: Logger;
  batch: { id: string; tenantId: string; spec: BatchSpec };
  model: ModelSpec;
  adapter: BatchImageModel;
  apiKey: string;
  /** The pack's items: results for any other id are ignored. */
  itemIds: Set<string>;
}

const isOpen = (item: Item) => item.status === 'queued' || item.status === 'running';

async function duplicate(ctx: ResultContext, item: Item, why: string): Promise<void> {
  const count = await ctx.economy.countDuplicate();
  ctx.log.info({ item_id: item.id, duplicates: count }, `economy result dropped: ${why} (first result wins)`);
}

async function onLine(ctx: ResultContext, r: BatchLineResult, stored: { first: boolean }): Promise<void> {
  const { deps, batch, model } = ctx;
  const where = parseLineKey(r.key);
  if (where === undefined || !ctx.itemIds.has(where.itemId)) return;
  const item = await deps.store.getItem(where.itemId);
  if (item === null) return;
  const data = { batch_id: batch.id, item_id: item.id, tenant_id: batch.tenantId };
  if (!isOpen(item) || item.lane !== 'economy') {
    if ('images' in r) await duplicate(ctx, item, `item is ${item.status} in lane ${item.lane}`);
    return;
  }
  if ('error' in r) {
    if (r.error.retryable) {
      ctx.log.info(
        { item_id: item.id, code: r.error.code },
        'economy line failed (retryable): moved to realtime',
      );
      await handToRealtime(
        deps,
        { id: batch.id, tenantId: batch.tenantId, priority: batch.spec.priority },
        item,
      );
      return;
    }
    ctx.log.info({ item_id: item.id, code: r.error.code }, 'item failed in its provider batch job');
    await endItem(deps, data, {
      status: 'failed',
      error: r.error.toJSON(),
      images: item.outputs.length,
      model,
      size: item.size,
      lane: 'economy',
    });
    return;
  }
  const done = new Set(item.outputs.map((o) => o.index));
  // Image k of the line is the item's image where.index + k; one stored already is not stored again.
  const fresh = r.images.filter((_, k) => !done.has(where.index + k));
  if (fresh.length < r.images.length) await duplicate(ctx, item, 'image already stored');
  if (fresh.length > 0) {
    const place = keyPartsOf(batch.spec, data, item, model.id);
    try {
      await storeGenerated(stampingModel(deps, model.id), item.id, place, fresh, done, item.n);
    } catch (err) {
      if (!isStorageRefusal(err)) throw err;
      await endItem(deps, data, {
        status: 'failed',
        error: err.toJSON(),
        images: done.size,
        model,
        size: item.size,
        lane: 'economy',
      });
      return;
    }
    if (stored.first) {
      stored.first = false;
      crashPoint('PIXELMILL_TEST_CRASH_IN_ECONOMY_RESULTS');
    }
  }
  if (done.size >= item.n) {
    await endItem(deps, data, {
      status: 'succeeded',
      error: null,
      images: item.n,
      model,
      size: item.size,
      lane: 'economy',
    });
  }
}

/**
 * Streams the job's results one line at a time, each stored before the next is read (a 4K image's
 * decode holds tens of MB of native memory; lines stored side by side measured +50-60 MB each for
 * little gain on CPU-bound decodes), then settles the pack's items that got
 * no result: in an expired job they end `expired` (mode economy) or move to realtime (mode auto); in a
 * job cancelled for a cancelled batch they end `cancelled`; otherwise (a failed job, a line the
 * provider dropped) they move to realtime.
 */
export async function settleResults(
  ctx: ResultContext,
  status: BatchJobStatus,
  cancelled: boolean,
): Promise<void> {
  const stored = { first: true };
  let lines = 0;
  for await (const r of ctx.adapter.results(ctx.apiKey, status)) {
    lines++;
    await onLine(ctx, r, stored);
  }
  const { deps, batch, model } = ctx;
  let expired = 0;
  let moved = 0;
  for (const item of await deps.store.getItems([...ctx.itemIds])) {
    if (!isOpen(item) || item.lane !== 'economy') continue;
    const data = { batch_id: batch.id, item_id: item.id, tenant_id: batch.tenantId };
    const priced = { images: item.outputs.length, model, size: item.size, lane: 'economy' as const };
    if (status.state === 'expired' && batch.spec.mode !== 'auto') {
      expired++;
      const error = {
        code: 'expired' as const,
        message: 'The provider batch job expired before this item ran',
        retryable: false,
      };
      await endItem(deps, data, { status: 'expired', error, ...priced });
    } else if (cancelled) {
      await endItem(deps, data, { status: 'cancelled', error: null, ...priced });
    } else {
      moved++;
      await handToRealtime(
        deps,
        { id: batch.id, tenantId: batch.tenantId, priority: batch.spec.priority },
        item,
      );
    }
  }
  ctx.log.info(
    { state: status.state, lines, expired, moved_to_realtime: moved },
    'provider batch job settled',
  );
}
