import { pipeline } from 'node:stream';
import {
  type BatchHeader,
  type BatchItemInput,
  batchHeaderSchema,
  batchItemInputSchema,
  type FieldProblem,
  zodProblems,
} from '@pixelmill/core';
import { CsvError, parse } from 'csv-parse';
import { type AcceptedBatch, BatchAcceptance } from '../batches/accept-batch.js';
import type { AppDeps } from '../deps.js';
import { invalidRequest } from '../errors.js';
import type { MeteredBody } from './metered-body.js';

/** CSV columns that are item fields; any other column is a template variable (`metadata.<key>`: metadata). */
const ITEM_COLUMNS = new Set([
  'custom_id',
  'prompt',
  'size',
  'aspect_ratio',
  'n',
  'model',
  'reference_images',
]);

/**
 * Batch options of a CSV upload, as query parameters, and the header field each one sets. The same
 * table names a header problem by its parameter (`query.size`).
 */
const QUERY_FIELDS: [param: string, path: string][] = [
  ['model', 'model'],
  ['prompt_template', 'prompt_template'],
  ['size', 'defaults.size'],
  ['aspect_ratio', 'defaults.aspect_ratio'],
  ['n', 'defaults.n'],
  ['priority', 'priority'],
  ['mode', 'mode'],
  ['output_prefix', 'output.prefix'],
  ['output_format', 'output.format'],
  ['key_template', 'output.key_template'],
  ['webhook_url', 'webhook.url'],
  ['webhook_events', 'webhook.events'],
  ['expires_at', 'expires_at'],
  ['dedupe', 'dedupe'],
  ['qa_on_flag', 'qa.on_flag'],
  ['qa_max_regenerations', 'qa.max_regenerations'],
];

function queryName(headerPath: string): string {
  if (headerPath.startsWith('metadata.')) return `query.${headerPath}`;
  const hit = QUERY_FIELDS.find(([, path]) => headerPath === path || headerPath.startsWith(`${path}[`));
  return `query.${hit ? hit[0] : headerPath}`;
}

const int = (v: string): number | string => (/^\d{1,6}$/.test(v) ? Number(v) : v);

/** The batch header from the query string; problems named by parameter. */
function headerFromQuery(query: Record<string, string>): BatchHeader {
  const header: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  const set = (path: string, value: unknown) => {
    const parts = path.split('.');
    let at = header;
    for (const part of parts.slice(0, -1)) {
      at[part] ??= {};
      at = at[part] as Record<string, unknown>;
    }
    at[parts[parts.length - 1] as string] = value;
  };
  for (const [param, value] of Object.entries(query)) {
    const field = QUERY_FIELDS.find(([p]) => p === param);
    if (param.startsWith('metadata.') && param.length > 'metadata.'.length) {
      if (header.metadata === undefined) header.metadata = {};
      (header.metadata as Record<string, string>)[param.slice('metadata.'.length)] = value;
    } else if (field === undefined) {
      problems.push({ path: `query.${param}`, message: 'Unknown batch option' });
    } else if (param === 'n' || param === 'qa_max_regenerations') set(field[1], int(value));
    else if (param === 'dedupe') set(field[1], value === 'true' ? true : value === 'false' ? false : value);
    else if (param === 'webhook_events')
      set(
        field[1],
        value.split(',').map((e) => e.trim()),
      );
    else set(field[1], value);
  }
  if (header.model === undefined) problems.push({ path: 'query.model', message: 'Required' });
  const parsed = batchHeaderSchema.safeParse(header);
  if (!parsed.success) {
    for (const p of zodProblems(parsed.error)) {
      if (p.path === 'model' && header.model === undefined) continue;
      problems.push({ path: queryName(p.path), message: p.message });
    }
  }
  if (problems.length > 0 || !parsed.success) throw invalidRequest(problems);
  return parsed.data;
}

/** One CSV record as an item: known columns are fields, `metadata.*` columns metadata, the rest vars. */
function itemFromRecord(record: Record<string, string>): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  const vars: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  for (const [column, value] of Object.entries(record)) {
    if (value === '') continue;
    if (column === 'n') item.n = int(value);
    else if (column === 'reference_images') item.reference_images = value.split(/[\s|]+/).filter(Boolean);
    else if (ITEM_COLUMNS.has(column)) item[column] = value;
    else if (column.startsWith('metadata.')) metadata[column.slice('metadata.'.length)] = value;
    else vars[column] = value;
  }
  if (Object.keys(vars).length > 0) item.vars = vars;
  if (Object.keys(metadata).length > 0) item.metadata = metadata;
  return item;
}

/** A field of an item named as its CSV column: `vars.title` is the `title` column. */
const columnOf = (field: string): string =>
  field.startsWith('vars.') ? field.slice('vars.'.length) : field.replace(/\[\d+\]$/, '');

/**
 * `text/csv`: a header row naming the columns (`custom_id` and `prompt`, or template variables), batch
 * options in the query string. Rows are parsed, validated and written as they arrive.
 */
export async function ingestCsv(
  deps: AppDeps,
  tenantId: string,
  body: MeteredBody,
  query: Record<string, string>,
): Promise<AcceptedBatch> {
  const header = headerFromQuery(query);
  let columnProblems: FieldProblem[] = [];
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    info: true,
    columns: (names: string[]) => {
      if (!names.includes('custom_id'))
        columnProblems.push({ path: 'line 1', message: 'The header row needs a custom_id column' });
      if (!names.includes('prompt') && header.prompt_template === undefined)
        columnProblems.push({
          path: 'line 1',
          message: 'The header row needs a prompt column, or give prompt_template in the query',
        });
      const seen = new Set<string>();
      for (const name of names) {
        if (seen.has(name))
          columnProblems.push({ path: 'line 1', message: `Column "${name}" appears twice` });
        seen.add(name);
      }
      if (columnProblems.length > 0) throw new Error('bad header row');
      return names;
    },
  });
  // pipeline, not pipe: a body error (413 past the size limit) must reach the parser and this loop.
  pipeline(body.stream, parser, () => {});
  const acceptance = await BatchAcceptance.begin(deps, tenantId, header, {
    locateHeader: queryName,
    items: 'line 2',
  });
  try {
    for await (const row of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      const at = row.info.lines;
      const locate = (field: string) => `line ${at}: ${columnOf(field)}`;
      const item = batchItemInputSchema.safeParse(itemFromRecord(row.record));
      if (item.success) await acceptance.add(item.data as BatchItemInput, locate);
      else
        acceptance.reject(
          locate,
          zodProblems(item.error).map((p) => ({ path: locate(p.path), message: p.message })),
        );
      if (acceptance.full) break;
    }
  } catch (err) {
    await acceptance.abort();
    if (columnProblems.length > 0) {
      const problems = columnProblems;
      columnProblems = [];
      throw invalidRequest(problems);
    }
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      throw invalidRequest([{ path: line ? `line ${line}` : '(body)', message: err.message }]);
    }
    throw err;
  }
  return acceptance.finish();
}
