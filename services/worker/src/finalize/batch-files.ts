import { once } from 'node:events';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { type BatchStore, type Item, resultColumns, resultRow } from '@pixelmill/core';
import type { ObjectStore } from '@pixelmill/storage';
import { stringify } from 'csv-stringify';

export interface BatchFileStreams {
  /** manifest.jsonl: one line per item, in submission order, without presigned URLs (they expire). */
  manifest: Readable;
  /**
   * results.csv: one row per item (custom_id, status, output keys and presigned URLs, error, cost,
   * QA and review), in submission order. GET /v1/batches/{id}/results serves the same rows with
   * fresh URLs.
   */
  results: Readable;
  /** Settles when every item is in both streams; on a failure both streams end with that error. */
  done: Promise<void>;
  /** Ends both streams with `err` (a consumer failed): the walk stops at its next write. */
  stop(err: unknown): void;
}

/**
 * A batch's manifest.jsonl and results.csv from one walk over its items, a window at a time: each
 * window is read from Redis once and written into both files. Each stream is written only as fast
 * as its consumer reads (memory stays flat for any batch size), so both must be read together.
 */
export function batchFileStreams(
  store: BatchStore,
  batchId: string,
  presign: (key: string) => Promise<string>,
): BatchFileStreams {
  const manifest = new PassThrough();
  const results = stringify({ header: true, columns: [...resultColumns] });
  // A failure reaches the caller through `done` and its uploads; a stream ended by stop() before any
  // consumer listened must not also throw it as an unhandled 'error' event.
  for (const stream of [manifest, results]) stream.on('error', () => undefined);
  const stop = (err: unknown): void => {
    const error = err instanceof Error ? err : new Error(String(err));
    manifest.destroy(error);
    results.destroy(error);
  };
  const done = (async () => {
    for await (const items of store.items(batchId)) {
      const rows = await Promise.all(items.map((item) => resultRow(item, presign)));
      await write(manifest, items.map(manifestLine).join(''));
      for (const row of rows) await write(results, row);
    }
    manifest.end();
    results.end();
  })().catch((err: unknown) => {
    stop(err);
    throw err;
  });
  return { manifest, results, done, stop };
}

/**
 * Uploads a batch's manifest.jsonl and results.csv to `keys`, side by side, from one walk over its
 * items (batchFileStreams); a failed upload stops the walk and the other upload.
 */
export async function putBatchFiles(
  objects: ObjectStore,
  store: BatchStore,
  batchId: string,
  keys: { manifest: string; results: string },
  presign: (key: string) => Promise<string>,
): Promise<void> {
  const files = batchFileStreams(store, batchId, presign);
  try {
    await Promise.all([
      objects.putStream(keys.manifest, files.manifest, 'application/x-ndjson'),
      objects.putStream(keys.results, files.results, 'text/csv'),
      files.done,
    ]);
  } catch (err) {
    files.stop(err);
    throw err;
  }
}

/** Waits for `drain` when the stream's buffer is full; a stream ended with an error rejects. */
async function write(stream: Writable, chunk: unknown): Promise<void> {
  if (stream.destroyed) throw stream.errored ?? new Error('batch file stream closed');
  if (!stream.write(chunk)) await once(stream, 'drain');
}

function manifestLine(item: Item): string {
  const entry: Omit<Item, 'outputs'> & { outputs: Omit<Item['outputs'][number], 'url'>[] } = {
    ...item,
    outputs: item.outputs.map(({ url: _url, ...o }) => o),
  };
  return `${JSON.stringify(entry)}\n`;
}
