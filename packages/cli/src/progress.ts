import cliProgress from 'cli-progress';
import type { Client, Json } from './client.js';

const endedCount = (b: Json): number =>
  b.counts.succeeded + b.counts.failed + b.counts.cancelled + (b.counts.expired ?? 0);

const isDone = (b: Json): boolean => b.status === 'completed' || b.status === 'cancelled';

export function summary(b: Json): string {
  const c = b.counts;
  return (
    `${b.id} ${b.status}: ${c.succeeded}/${c.total} succeeded, ${c.failed} failed, ${c.cancelled} cancelled, ` +
    `${c.expired ?? 0} expired, ${c.queued} queued, ${c.running} running; ` +
    `spent $${b.cost.actual_usd.toFixed(2)} of an estimated $${b.cost.estimated_usd.toFixed(2)}`
  );
}

/**
 * Polls a batch until it ends, with a live bar on a terminal: items done of total, rate, ETA and spend
 * so far. Without a terminal it prints nothing until the end.
 */
export async function waitForBatch(
  client: Client,
  batchId: string,
  opts: { intervalMs?: number; stream?: NodeJS.WriteStream } = {},
): Promise<Json> {
  const stream = opts.stream ?? process.stderr;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        '{bar} {percentage}% | {value}/{total} items | {succeeded} ok, {failed} failed | {rate}/s | ETA {eta_formatted} | spent {spend}',
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let batch: Json = await client.get(`/v1/batches/${batchId}`);
  const started = Date.now();
  const startEnded = endedCount(batch);
  bar.start(batch.counts.total, endedCount(batch), { succeeded: 0, failed: 0, rate: '0.0', spend: '$0.00' });
  try {
    for (;;) {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      bar.setTotal(batch.counts.total);
      bar.update(endedCount(batch), {
        succeeded: batch.counts.succeeded,
        failed: batch.counts.failed,
        rate: ((endedCount(batch) - startEnded) / seconds).toFixed(1),
        spend: `$${batch.cost.actual_usd.toFixed(2)}`,
      });
      if (isDone(batch)) return batch;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
      batch = await client.get(`/v1/batches/${batchId}`);
    }
  } finally {
    bar.stop();
  }
}
