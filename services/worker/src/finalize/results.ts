import { Readable } from 'node:stream';
import { type BatchStore, resultColumns, resultRows } from '@pixelmill/core';
import { stringify } from 'csv-stringify';

/**
 * results.csv: one row per item (custom_id, status, output keys and presigned URLs, error, cost), in
 * submission order, streamed a window of items at a time. GET /v1/batches/{id}/results serves the same
 * rows with fresh URLs.
 */
export function resultsCsv(
  store: BatchStore,
  batchId: string,
  presign: (key: string) => Promise<string>,
): Readable {
  const rows = Readable.from(resultRows(store, batchId, presign));
  const csv = stringify({ header: true, columns: [...resultColumns] });
  rows.on('error', (err) => csv.destroy(err));
  return rows.pipe(csv);
}
