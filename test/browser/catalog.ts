import { readFileSync } from 'node:fs';
import { repoRoot } from '../support/processes.js';

export interface CatalogRow {
  custom_id: string;
  title: string;
  background: string;
  size: string;
  aspect_ratio: string;
}

/** examples/catalog.csv (plain comma-separated, no quoting) as objects keyed by its header. */
export function catalogRows(): CatalogRow[] {
  const [header, ...lines] = readFileSync(`${repoRoot}examples/catalog.csv`, 'utf8').trim().split('\n');
  const names = (header ?? '').split(',');
  return lines.map((line) => {
    if (line.includes('"')) throw new Error(`catalog.csv has a quoted field; use a CSV parser: ${line}`);
    const cells = line.split(',');
    return Object.fromEntries(names.map((n, i) => [n, cells[i] ?? ''])) as unknown as CatalogRow;
  });
}

/**
 * The demo batch (`pnpm demo` builds the same prompts) as a JSON body. The item `blocked` gets the
 * word "forbidden", which the provider simulator refuses, so one item fails.
 */
export function catalogBatch(opts: { blocked: string; webhook?: { url: string; secret: string } }) {
  const rows = catalogRows();
  if (!rows.some((r) => r.custom_id === opts.blocked)) throw new Error(`no row ${opts.blocked}`);
  return {
    model: 'gemini-3-pro-image',
    items: rows.map((r) => ({
      custom_id: r.custom_id,
      prompt:
        `Studio product photo of a ${r.title} on ${r.background}, soft light, e-commerce catalog style` +
        (r.custom_id === opts.blocked ? ', with a forbidden logo' : ''),
      size: r.size,
      aspect_ratio: r.aspect_ratio,
    })),
    ...(opts.webhook ? { webhook: { ...opts.webhook, events: ['batch.completed'] } } : {}),
    output: { prefix: 'demo/' },
    metadata: { source: 'examples/catalog.csv' },
  };
}
