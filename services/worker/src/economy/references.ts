/**
 * @module The reference images of a pack's items, loaded for their provider job as the realtime lane
 * loads them (URLs through the SSRF guard, keys under the tenant's root only). An item whose
 * references fail is left out of the job: a retryable failure moves it to realtime (which tries
 * again), any other ends it failed with the realtime lane's error (`reference_image_error`).
 */
import { type Item, isProviderError, type Priority, tenantRoot } from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';
import type { ModelSpec, ReferenceImage } from '@pixelmill/providers';
import type { WorkerDeps } from '../deps.js';
import { endItem } from '../generate/end-item.js';
import { loadReferenceImages } from '../generate/reference-images.js';
import { handToRealtime } from './hand-over.js';

/** The references of each item that may go into the job, by item id; the others are settled here. */
export async function loadPackReferences(
  ctx: {
    deps: WorkerDeps;
    log: Logger;
    batch: { id: string; tenantId: string; priority: Priority };
    model: ModelSpec;
  },
  items: Item[],
): Promise<Map<string, ReferenceImage[]>> {
  const { deps, batch } = ctx;
  const out = new Map<string, ReferenceImage[]>();
  for (const item of items) {
    try {
      out.set(
        item.id,
        await loadReferenceImages(item.reference_images, deps.objects, {
          allowPrivate: deps.options.allowPrivateUrls,
          root: tenantRoot(batch.tenantId),
        }),
      );
    } catch (err) {
      if (!isProviderError(err)) throw err;
      ctx.log.info({ item_id: item.id, code: err.code }, 'reference images not loaded for the economy lane');
      if (err.retryable) {
        await handToRealtime(deps, batch, item);
        continue;
      }
      await endItem(
        deps,
        { batch_id: batch.id, item_id: item.id, tenant_id: batch.tenantId },
        {
          status: 'failed',
          error: err.toJSON(),
          images: item.outputs.length,
          model: ctx.model,
          size: item.size,
          lane: 'economy',
        },
      );
    }
  }
  return out;
}
