import type { Item } from '../schemas/batch.js';
import type { BatchStore } from './batch-store.js';
import { csvSafe } from './csv-safe.js';

/**
 * Columns of results.csv (api.md "Results"): one row per item, in submission order. Text cells that
 * would start a spreadsheet formula begin with `'` (csv-safe.ts).
 */
export const resultColumns = [
  'custom_id',
  'item_id',
  'status',
  'model',
  'output_keys',
  'output_urls',
  'error_code',
  'error_message',
  'cost_usd',
  'reused_from',
  'qa_status',
  'qa_flags',
  'review_status',
  'reviewed_by',
  'review_note',
  'version',
  'chosen_index',
] as const;

/** Several outputs of one item share a cell, separated by `|` (never part of a key or a presigned URL). */
export const RESULT_LIST_SEPARATOR = '|';

/**
 * A batch's result rows, a window of items at a time (memory stays flat for any batch size).
 * `presign` turns an output key into a time-limited URL.
 */
export async function* resultRows(
  store: BatchStore,
  batchId: string,
  presign: (key: string) => Promise<string>,
): AsyncGenerator<string[]> {
  for await (const items of store.items(batchId)) {
    for (const item of items) yield await resultRow(item, presign);
  }
}

/** One item's row of results.csv, its output URLs presigned by `presign`. */
export async function resultRow(item: Item, presign: (key: string) => Promise<string>): Promise<string[]> {
  const urls = await Promise.all(item.outputs.map((o) => presign(o.key)));
  // Every text cell is formula-safe (custom_id, output keys under a client prefix, provider error
  // text); cost_usd is our own number and stays as written.
  const text = [
    item.custom_id,
    item.id,
    item.status,
    item.model,
    item.outputs.map((o) => o.key).join(RESULT_LIST_SEPARATOR),
    urls.join(RESULT_LIST_SEPARATOR),
    item.error?.code ?? '',
    item.error?.message ?? '',
  ].map(csvSafe);
  const reusedFrom = item.reused_from ? `${item.reused_from.batch_id}/${item.reused_from.custom_id}` : '';
  return [...text, String(item.cost_usd), csvSafe(reusedFrom), ...qaCells(item), ...reviewCells(item)];
}

/**
 * `review_status`, `reviewed_by` (the key id), `review_note` (the reviewer's text: formula-safe),
 * `version` (the chosen version) and `chosen_index` (the chosen variant, empty: all of them).
 * output_keys and output_urls are the chosen version's.
 */
function reviewCells(item: Item): string[] {
  return [
    item.review.status,
    item.review.by ?? '',
    csvSafe(item.review.note ?? ''),
    String(item.chosen.version),
    item.chosen.index === null ? '' : String(item.chosen.index),
  ];
}

/**
 * `qa_status`: `flagged` when any output was flagged, `passed` when every output was checked and
 * passed, empty when no output carries a QA result. `qa_flags`: `<output index>:<check>` for each
 * check that flagged, `|`-separated (e.g. `0:blank|1:duplicate`). Both are our own words: no quoting.
 */
function qaCells(item: Item): [string, string] {
  const checked = item.outputs.filter((o) => o.qa !== undefined);
  if (checked.length === 0) return ['', ''];
  const flags = checked.flatMap((o) =>
    (o.qa?.checks ?? []).filter((c) => !c.passed).map((c) => `${o.index}:${c.name}`),
  );
  const status = flags.length > 0 ? 'flagged' : checked.length === item.outputs.length ? 'passed' : '';
  return [status, flags.join(RESULT_LIST_SEPARATOR)];
}
