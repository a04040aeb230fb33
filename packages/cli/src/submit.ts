import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { Client, Json } from './client.js';

/** Batch options given on the command line (the same names as the API's header fields). */
export interface SubmitOptions {
  model?: string | undefined;
  template?: string | undefined;
  size?: string | undefined;
  aspectRatio?: string | undefined;
  n?: string | undefined;
  prefix?: string | undefined;
  format?: string | undefined;
  keyTemplate?: string | undefined;
  priority?: string | undefined;
  expiresAt?: string | undefined;
  dedupe?: boolean | undefined;
  webhookUrl?: string | undefined;
  idempotencyKey?: string | undefined;
}

type Kind = 'csv' | 'ndjson' | 'json';

export function kindOf(file: string): Kind {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(file)) return 'ndjson';
  if (/\.json$/i.test(file)) return 'json';
  throw new Error(`Cannot tell the format of ${file}: use .csv, .ndjson/.jsonl or .json`);
}

/** The batch header as the API's JSON/NDJSON field names. */
function header(o: SubmitOptions): Record<string, unknown> {
  const defaults = {
    ...(o.size ? { size: o.size } : {}),
    ...(o.aspectRatio ? { aspect_ratio: o.aspectRatio } : {}),
    ...(o.n ? { n: Number(o.n) } : {}),
  };
  const output = {
    ...(o.prefix ? { prefix: o.prefix } : {}),
    ...(o.format ? { format: o.format } : {}),
    ...(o.keyTemplate ? { key_template: o.keyTemplate } : {}),
  };
  return {
    ...(o.model ? { model: o.model } : {}),
    ...(o.template ? { prompt_template: o.template } : {}),
    ...(Object.keys(defaults).length ? { defaults } : {}),
    ...(Object.keys(output).length ? { output } : {}),
    ...(o.priority ? { priority: o.priority } : {}),
    ...(o.expiresAt ? { expires_at: o.expiresAt } : {}),
    ...(o.dedupe ? { dedupe: true } : {}),
    ...(o.webhookUrl ? { webhook: { url: o.webhookUrl } } : {}),
  };
}

/** The same options as CSV query parameters (docs/api.md, CSV upload). */
function query(o: SubmitOptions): string {
  const q = new URLSearchParams();
  const put = (k: string, v: string | undefined) => v !== undefined && v !== '' && q.set(k, v);
  put('model', o.model);
  put('prompt_template', o.template);
  put('size', o.size);
  put('aspect_ratio', o.aspectRatio);
  put('n', o.n);
  put('output_prefix', o.prefix);
  put('output_format', o.format);
  put('key_template', o.keyTemplate);
  put('priority', o.priority);
  put('expires_at', o.expiresAt);
  if (o.dedupe) q.set('dedupe', 'true');
  put('webhook_url', o.webhookUrl);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Whether an NDJSON file's first line is already a batch header (it has no custom_id). */
async function hasHeaderLine(file: string): Promise<boolean> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    lines.close();
    try {
      return !('custom_id' in (JSON.parse(line) as object));
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * The default Idempotency-Key: a hash of the file and the options, so running the same submit again
 * (after a lost connection, say) returns the first batch instead of paying twice.
 */
async function defaultKey(file: string, o: SubmitOptions): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(o));
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `cli-${hash.digest('hex').slice(0, 48)}`;
}

/** Uploads a catalog file: CSV and NDJSON stream from disk, JSON is sent whole. */
export async function submit(client: Client, file: string, o: SubmitOptions): Promise<Json> {
  const kind = kindOf(file);
  const headers = { 'idempotency-key': o.idempotencyKey ?? (await defaultKey(file, o)) };
  if (kind === 'json') {
    const body = { ...(JSON.parse(await readFile(file, 'utf8')) as object), ...header(o) };
    return (await client.request('POST', '/v1/batches', { json: body, headers })).json;
  }
  if (kind === 'csv') {
    const body = Readable.toWeb(createReadStream(file)) as ReadableStream;
    return (
      await client.request('POST', `/v1/batches${query(o)}`, {
        body,
        headers: { ...headers, 'content-type': 'text/csv' },
      })
    ).json;
  }
  const prepend = (await hasHeaderLine(file)) ? [] : [`${JSON.stringify(header(o))}\n`];
  async function* lines() {
    yield* prepend;
    yield* createReadStream(file);
  }
  const body = Readable.toWeb(Readable.from(lines())) as ReadableStream;
  return (
    await client.request('POST', '/v1/batches', {
      body,
      headers: { ...headers, 'content-type': 'application/x-ndjson' },
    })
  ).json;
}
