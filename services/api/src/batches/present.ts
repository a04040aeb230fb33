import type { Batch, Item } from '@pixelmill/core';
import type { ObjectStore } from '@pixelmill/storage';

/** Adds short-lived presigned URLs at read time; the store keeps only keys. */
export async function presentBatch(batch: Batch, objects: ObjectStore, ttlS: number): Promise<Batch> {
  const { manifest_key, ...rest } = batch;
  return {
    ...rest,
    manifest_key,
    manifest_url: manifest_key ? await objects.presignGet(manifest_key, ttlS) : null,
    results_url: batch.results_key ? await objects.presignGet(batch.results_key, ttlS) : null,
  };
}

/** Output and thumbnail URLs on the item's outputs and on every version's (side-by-side review). */
export async function presentItem(item: Item, objects: ObjectStore, ttlS: number): Promise<Item> {
  const sign = (outputs: Item['outputs']) =>
    Promise.all(
      outputs.map(async (o) => ({
        ...o,
        url: await objects.presignGet(o.key, ttlS),
        ...(o.thumbnail_key ? { thumbnail_url: await objects.presignGet(o.thumbnail_key, ttlS) } : {}),
      })),
    );
  const versions = await Promise.all(
    item.versions.map(async (v) => ({ ...v, outputs: await sign(v.outputs) })),
  );
  return { ...item, outputs: await sign(item.outputs), versions };
}
