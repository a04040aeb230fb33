/** @module Event bodies: `{"type", "timestamp", "data"}`, links instead of bytes, about 20 kB at most. */
import type { Batch, Item, OutputQa } from '@pixelmill/core';
import type { EventDeps } from './event-deps.js';

export function eventBody(type: string, data: unknown, at = new Date()): string {
  return JSON.stringify({ type, timestamp: at.toISOString(), data });
}

/** The batch object with a fresh presigned `manifest_url` (null until the manifest is written). */
export async function batchPayload(deps: EventDeps, batch: Batch): Promise<Batch> {
  const manifestUrl = batch.manifest_key
    ? await deps.objects.presignGet(batch.manifest_key, deps.options.presignTtlS)
    : null;
  return { ...batch, manifest_url: manifestUrl };
}

/**
 * The item object with presigned output URLs, without `prompt` and `reference_images`: a prompt may be
 * 32,000 characters and the receiver sent it; GET the item when it needs them. Versions are listed by
 * number, cause and time only (up to 20 of them, each with up to 10 outputs, would not fit ~20 kB);
 * `outputs` are the chosen version's.
 */
export type ItemPayload = Omit<Item, 'prompt' | 'reference_images' | 'versions'> & {
  versions: Pick<Item['versions'][number], 'version' | 'cause' | 'created_at'>[];
};

export async function itemPayload(deps: EventDeps, item: Item): Promise<ItemPayload> {
  const { prompt: _prompt, reference_images: _refs, versions, ...rest } = item;
  const outputs = await Promise.all(
    item.outputs.map(async (o) => ({
      ...o,
      url: await deps.objects.presignGet(o.key, deps.options.presignTtlS),
    })),
  );
  return {
    ...rest,
    outputs,
    versions: versions.map((v) => ({ version: v.version, cause: v.cause, created_at: v.created_at })),
  };
}

/** One item inside an `items.completed` event: what a receiver acts on, nothing it sent itself. */
export interface GroupedItem {
  id: string;
  custom_id: string;
  status: Item['status'];
  outputs: {
    index: number;
    key: string;
    url: string;
    content_type: string;
    bytes: number;
    sha256: string;
    /** The output's QA result (api.md "Output QA"), when it was checked. */
    qa?: OutputQa;
  }[];
  error: Item['error'];
  cost_usd: number;
  finished_at: string | null;
}

export function groupedItem(item: ItemPayload): GroupedItem {
  return {
    id: item.id,
    custom_id: item.custom_id,
    status: item.status,
    outputs: item.outputs.map((o) => ({
      index: o.index,
      key: o.key,
      url: o.url ?? '',
      content_type: o.content_type,
      bytes: o.bytes,
      sha256: o.sha256,
      ...(o.qa ? { qa: o.qa } : {}),
    })),
    error: item.error,
    cost_usd: item.cost_usd,
    finished_at: item.finished_at,
  };
}
