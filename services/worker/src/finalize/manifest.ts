import { Readable } from 'node:stream';
import type { BatchStore, Item } from '@pixelmill/core';

/** manifest.jsonl: one line per item, in submission order, without presigned URLs (they expire). */
export function manifestLines(store: BatchStore, batchId: string): Readable {
  async function* lines(): AsyncGenerator<string> {
    for await (const ids of store.itemIds(batchId)) {
      const items = await store.getItems(ids);
      yield items.map((item) => `${JSON.stringify(manifestEntry(item))}\n`).join('');
    }
  }
  return Readable.from(lines());
}

function manifestEntry(
  item: Item,
): Omit<Item, 'outputs'> & { outputs: Omit<Item['outputs'][number], 'url'>[] } {
  return { ...item, outputs: item.outputs.map(({ url: _url, ...o }) => o) };
}
