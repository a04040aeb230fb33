import {
  enqueue,
  type GenerateJob,
  type ItemError,
  jobs,
  type Lane,
  type Size,
  toMicros,
} from '@pixelmill/core';
import { estimateCostUsd, type ModelSpec } from '@pixelmill/providers';
import type { WorkerDeps } from '../deps.js';
import { crashPoint } from '../test-crash.js';

/**
 * Ends the item in the batch store (whose script records the end in the outbox, so its events are
 * never lost) and queues the batch's finalize when it was the last.
 */
export async function endItem(
  deps: WorkerDeps,
  data: GenerateJob,
  result: {
    status: 'succeeded' | 'failed' | 'cancelled' | 'expired';
    error: ItemError | null;
    images: number;
    model?: ModelSpec;
    size?: Size;
    /** The lane that delivered the images: economy images cost the model's batch price. */
    lane?: Lane;
  },
): Promise<void> {
  // Cost follows the images actually delivered: the registry's price per image for the item's size,
  // at the batch price for images of a provider batch job.
  const costMicros =
    result.model && result.size && result.images > 0
      ? toMicros(estimateCostUsd(result.model, result.size, result.images, result.lane ?? 'realtime'))
      : 0;
  const ended = await deps.store.endItem(data.batch_id, data.item_id, {
    status: result.status,
    error: result.error,
    costMicros,
    images: result.images,
    provider: result.model?.provider ?? null,
  });
  // The end and its events are one step: the script recorded it in the outbox, and the relay (any
  // worker's) sends its events and, for the batch's last item, queues the finalize job too.
  if (ended.ended) crashPoint('PIXELMILL_TEST_CRASH_AFTER_END_ITEM');
  if (ended.last)
    await enqueue(deps.queues, jobs.finalize, { batch_id: data.batch_id, tenant_id: data.tenant_id });
}
