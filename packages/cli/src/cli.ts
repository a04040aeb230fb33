import { parseArgs } from 'node:util';
import { PixelmillError, type RetryableStatus } from '@pixelmill/client';
import { ApiCallError, Client, type Json } from './client.js';
import { download } from './download.js';
import { summary, waitForBatch } from './progress.js';
import { submit } from './submit.js';

export const usage = `pixelmill: submit catalogs of image prompts and collect the results

Usage:
  pixelmill submit <catalog.csv|.ndjson|.json> [--model ID] [--template "...{{column}}..."] [--wait]
        [--size 1K] [--aspect-ratio 1:1] [--n 1] [--prefix path/] [--format png|jpeg|webp]
        [--key-template "{prefix}{batch_id}/{custom_id}/{index}.{ext}"] [--priority high|normal|low]
        [--expires-at 2026-12-01T00:00:00Z] [--dedupe] [--webhook-url URL] [--idempotency-key KEY]
  pixelmill status <batch> [--wait] [--json]
  pixelmill cancel <batch>
  pixelmill retry <batch> [--statuses failed,expired,cancelled]
  pixelmill download <batch> [--out DIR] [--concurrency 8] [--approved]
  pixelmill models [--json]

The API is PIXELMILL_API_URL (default http://127.0.0.1:8080) with the key PIXELMILL_API_KEY, or
--api-url / --api-key. Exit codes: 0 done (every item succeeded), 3 done with items that did not
succeed, 2 bad usage, 1 an error.
`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const options = {
  'api-url': { type: 'string' },
  'api-key': { type: 'string' },
  model: { type: 'string' },
  template: { type: 'string' },
  size: { type: 'string' },
  'aspect-ratio': { type: 'string' },
  n: { type: 'string' },
  prefix: { type: 'string' },
  format: { type: 'string' },
  'key-template': { type: 'string' },
  priority: { type: 'string' },
  'expires-at': { type: 'string' },
  dedupe: { type: 'boolean' },
  'webhook-url': { type: 'string' },
  'idempotency-key': { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  statuses: { type: 'string' },
  out: { type: 'string' },
  concurrency: { type: 'string' },
  approved: { type: 'boolean' },
  'poll-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const doneCode = (b: Json): number => (b.counts.succeeded === b.counts.total ? 0 : 3);

/** Runs one command; returns the exit code. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const [command, target] = positionals;
  if (v.help || command === undefined) {
    io.out(usage);
    return command === undefined && !v.help ? 2 : 0;
  }
  const apiKey = v['api-key'] ?? env.PIXELMILL_API_KEY;
  if (!apiKey) {
    io.err('No API key: set PIXELMILL_API_KEY or pass --api-key\n');
    return 2;
  }
  const client = new Client({
    apiUrl: v['api-url'] ?? env.PIXELMILL_API_URL ?? 'http://127.0.0.1:8080',
    apiKey,
  });
  const needTarget = (what: string): string => {
    if (target === undefined) throw new UsageError(`${command} needs a ${what}`);
    return target;
  };
  const pollMs = v['poll-ms'] ? Number(v['poll-ms']) : 1000;
  const print = (b: Json) => io.out(v.json ? `${JSON.stringify(b, null, 2)}\n` : `${summary(b)}\n`);
  try {
    switch (command) {
      case 'submit': {
        const batch = await submit(client, needTarget('catalog file'), {
          model: v.model,
          template: v.template,
          size: v.size,
          aspectRatio: v['aspect-ratio'],
          n: v.n,
          prefix: v.prefix,
          format: v.format,
          keyTemplate: v['key-template'],
          priority: v.priority,
          expiresAt: v['expires-at'],
          dedupe: v.dedupe,
          webhookUrl: v['webhook-url'],
          idempotencyKey: v['idempotency-key'],
        });
        io.out(
          `submitted ${batch.id}: ${batch.counts.total} items, estimated $${batch.cost.estimated_usd.toFixed(2)}\n`,
        );
        if (batch.webhook?.secret) io.out(`webhook secret (shown once): ${batch.webhook.secret}\n`);
        if (!v.wait) return 0;
        const done = await waitForBatch(client, batch.id, { intervalMs: pollMs });
        print(done);
        return doneCode(done);
      }
      case 'status': {
        const id = needTarget('batch id');
        const batch = v.wait
          ? await waitForBatch(client, id, { intervalMs: pollMs })
          : await client.api.getBatch(id);
        print(batch);
        return 0;
      }
      case 'cancel': {
        const batch = await client.api.cancelBatch(needTarget('batch id'));
        print(batch);
        return 0;
      }
      case 'retry': {
        const statuses = v.statuses?.split(',').map((s) => retryableStatus(s.trim()));
        const { batch, retried } = await client.api.retryBatch(needTarget('batch id'), statuses);
        io.out(`queued again: ${retried} items\n`);
        print(batch);
        return 0;
      }
      case 'download': {
        const id = needTarget('batch id');
        const out = v.out ?? id;
        const result = await download(client, id, out, {
          concurrency: v.concurrency ? Number(v.concurrency) : 8,
          approved: v.approved === true,
        });
        io.out(
          `downloaded ${result.downloaded}, already there ${result.skipped}, failed ${result.failed.length} → ${out}\n`,
        );
        for (const f of result.failed) io.err(`  ${f.key}: ${f.error}\n`);
        return result.failed.length > 0 ? 1 : 0;
      }
      case 'models': {
        const models = await client.api.models();
        if (v.json) io.out(`${JSON.stringify({ object: 'list', data: models }, null, 2)}\n`);
        else
          for (const m of models)
            io.out(`${m.id}\t${m.provider}\t${m.sizes.join(',')}\t${m.available ? 'available' : 'no key'}\n`);
        return 0;
      }
      default:
        throw new UsageError(`Unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${usage}`);
      return 2;
    }
    if (err instanceof ApiCallError || err instanceof PixelmillError) {
      io.err(`${err.code}: ${err.message}\n`);
      for (const d of err.details) io.err(`  ${d.path}: ${d.message}\n`);
      return 1;
    }
    io.err(`${(err as Error).message}\n`);
    return 1;
  }
}

class UsageError extends Error {}

const retryable: readonly RetryableStatus[] = ['failed', 'cancelled', 'expired'];

function retryableStatus(s: string): RetryableStatus {
  const found = retryable.find((r) => r === s);
  if (found === undefined) throw new UsageError(`--statuses takes ${retryable.join(', ')}; not "${s}"`);
  return found;
}
