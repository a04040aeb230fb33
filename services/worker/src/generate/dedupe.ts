import { createHash } from 'node:crypto';
import {
  type BatchSpec,
  DedupeStore,
  type GenerateJob,
  type Item,
  newestOutputs,
  type ReusableGeneration,
  tenantRoot,
} from '@pixelmill/core';
import { sha256Hex } from '@pixelmill/storage';
import type { WorkerDeps } from '../deps.js';
import { keyPartsOf, outputKeyFor } from './output-key.js';
import { loadReferenceImages } from './reference-images.js';

export interface DedupeOutcome {
  /** The item's outputs are copies of an earlier generation: the processor ends it succeeded at cost 0. */
  reused: boolean;
  /** After the item succeeded by generating: records it for later identical requests. */
  remember: () => Promise<void>;
}

const nothing: DedupeOutcome = { reused: false, remember: async () => undefined };

/**
 * The request's identity: model, prompt, every parameter that changes the pixels or the file, and the
 * SHA-256 of each reference image's bytes (the same URL may serve another image tomorrow).
 */
async function fingerprint(
  deps: WorkerDeps,
  data: GenerateJob,
  item: Item,
  spec: BatchSpec,
): Promise<string> {
  const refs = await loadReferenceImages(item.reference_images, deps.objects, {
    allowPrivate: deps.options.allowPrivateUrls,
    root: tenantRoot(data.tenant_id),
  });
  return createHash('sha256')
    .update(
      JSON.stringify([
        item.model,
        item.prompt,
        item.size,
        item.aspect_ratio,
        item.n,
        spec.output.format,
        refs.map((r) => sha256Hex(r.bytes)),
      ]),
    )
    .digest('hex');
}

/**
 * Content-addressed reuse for batches with `dedupe: true`: an identical request this tenant already
 * generated (in a dedupe batch) is copied to this item's keys instead of paid for again; the item
 * records `reused_from` and costs 0. Any problem (a reference that does not load, a source object that
 * is gone or changed) means no reuse: the item is generated as usual.
 */
export async function dedupeItem(
  deps: WorkerDeps,
  data: GenerateJob,
  item: Item,
  spec: BatchSpec,
): Promise<DedupeOutcome> {
  if (!spec.dedupe) return nothing;
  const generations = new DedupeStore(deps.redis, deps.queues.prefix);
  let request: string;
  try {
    request = await fingerprint(deps, data, item, spec);
  } catch (err) {
    deps.logger.debug({ err, item_id: data.item_id }, 'no dedupe fingerprint; generating');
    return nothing;
  }
  const remember = async () => {
    const now = await deps.store.getItem(data.item_id);
    if (now === null || now.status !== 'succeeded' || now.outputs.length !== now.n) return;
    const generation: ReusableGeneration = {
      batch_id: data.batch_id,
      item_id: data.item_id,
      custom_id: now.custom_id,
      outputs: now.outputs.map((o) => ({
        index: o.index,
        key: o.key,
        content_type: o.content_type,
        width: o.width,
        height: o.height,
        bytes: o.bytes,
        sha256: o.sha256,
      })),
    };
    await generations.remember(data.tenant_id, request, generation);
  };
  // A later version (a regeneration) is a new generation by definition: never a copy.
  if (item.version > 1) return { reused: false, remember };
  const source = await generations.find(data.tenant_id, request);
  if (source === null) return { reused: false, remember };
  if (source.item_id === data.item_id || !(await copyOutputs(deps, data, item, spec, source))) {
    return { reused: false, remember };
  }
  await deps.store.markReused(data.item_id, {
    batch_id: source.batch_id,
    item_id: source.item_id,
    custom_id: source.custom_id,
  });
  deps.logger.debug(
    { item_id: data.item_id, reused_from: source.item_id },
    'item reused an earlier generation',
  );
  return { reused: true, remember: nothing.remember };
}

/** Copies the source's images to this item's keys (checking their hashes); false when any is unusable. */
async function copyOutputs(
  deps: WorkerDeps,
  data: GenerateJob,
  item: Item,
  spec: BatchSpec,
  source: ReusableGeneration,
): Promise<boolean> {
  if (source.outputs.length !== item.n) return false;
  const done = new Set(newestOutputs(item).map((o) => o.index));
  for (const out of source.outputs) {
    if (done.has(out.index)) continue;
    let bytes: Buffer;
    try {
      bytes = await deps.objects.get(out.key);
    } catch {
      return false;
    }
    if (sha256Hex(bytes) !== out.sha256) return false;
    const key = outputKeyFor(keyPartsOf(spec, data, item, item.model), out.index);
    const put = await deps.objects.put(key, bytes, out.content_type);
    await deps.store.recordOutput(data.item_id, { ...out, key, bytes: put.bytes, sha256: put.sha256 });
  }
  return true;
}
