import { DeliveryStore, itemStatuses, type PendingDeliveries } from '@pixelmill/core';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppDeps } from '../deps.js';
import { oldestWaitingAgeSeconds } from './queue-age.js';

/** BullMQ job states worth watching (completed jobs are removed at once). */
const JOB_STATES = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;
/** Batch and item gauges need a scan over every batch: recompute at most this often. */
const BATCH_SCAN_TTL_MS = 10_000;
/** A scan stops after this many batches (the gauges then under-count; see the warning gauge). */
const MAX_BATCHES_SCANNED = 100_000;

export interface ApiMetrics {
  registry: Registry;
  /** Counts and times every request by method, route pattern and status. */
  middleware: MiddlewareHandler;
}

/**
 * The API's Prometheus metrics: queue depths per queue and state, the age of each queue's oldest
 * waiting job, webhook deliveries by state and the oldest due one's wait, items by state, batches by status
 * (summed over every batch in Redis, cached for a few seconds), and HTTP requests.
 */
export function createApiMetrics(
  deps: Pick<AppDeps, 'redis' | 'store' | 'queues' | 'registry'>,
  opts: { processMetrics?: boolean } = {},
): ApiMetrics {
  const registry = new Registry();
  // Process metrics (CPU, memory, event loop) once per process: main.ts asks for them, tests do not.
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({
    name: 'pixelmill_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const duration = new Histogram({
    name: 'pixelmill_http_request_duration_seconds',
    help: 'HTTP request duration by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  const allQueues = () => [
    ...deps.registry.list().map((m) => deps.queues.generate(m.id)),
    deps.queues.finalize,
    deps.queues.deliver,
  ];
  new Gauge({
    name: 'pixelmill_queue_jobs',
    help: 'Jobs per queue and BullMQ state',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const q of allQueues()) {
        const counts = await q.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
      }
    },
  });

  new Gauge({
    name: 'pixelmill_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job ready to run (wait or prioritized) per queue; 0 when none waits',
    labelNames: ['queue'],
    registers,
    async collect() {
      this.reset();
      const now = Date.now();
      for (const q of allQueues())
        this.set({ queue: q.name }, await oldestWaitingAgeSeconds(deps.redis, q, now));
    },
  });

  // Deliveries are not BullMQ jobs: the store's due set and leases say where they are. A scrape
  // collects both delivery gauges at once; they share one read.
  let reading: Promise<PendingDeliveries> | undefined;
  const pendingDeliveries = () =>
    (reading ??= new DeliveryStore(deps.redis, deps.queues.prefix).pendingCounts().finally(() => {
      reading = undefined;
    }));
  new Gauge({
    name: 'pixelmill_webhook_deliveries',
    help: 'Webhook deliveries not ended, by state: due (ready for an attempt), scheduled (a retry later), sending (an attempt holds it)',
    labelNames: ['state'],
    registers,
    async collect() {
      const counts = await pendingDeliveries();
      this.reset();
      for (const state of ['due', 'scheduled', 'sending'] as const) this.set({ state }, counts[state]);
    },
  });
  new Gauge({
    name: 'pixelmill_webhook_oldest_due_seconds',
    help: 'How long the oldest due webhook delivery has waited for an attempt; 0 when none is due',
    registers,
    async collect() {
      this.set((await pendingDeliveries()).oldestDueS);
    },
  });

  const batchTotals = cachedBatchTotals(deps);
  new Gauge({
    name: 'pixelmill_items',
    help: 'Items by state, summed over all batches',
    labelNames: ['state'],
    registers,
    async collect() {
      const totals = await batchTotals();
      this.reset();
      for (const state of itemStatuses) this.set({ state }, totals.items[state] ?? 0);
    },
  });
  new Gauge({
    name: 'pixelmill_batches',
    help: 'Batches by status',
    labelNames: ['status'],
    registers,
    async collect() {
      const totals = await batchTotals();
      this.reset();
      for (const [status, n] of Object.entries(totals.batches)) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'pixelmill_batches_scan_truncated',
    help: `1 when there are more than ${MAX_BATCHES_SCANNED} batches and the batch/item gauges under-count`,
    registers,
    async collect() {
      this.set((await batchTotals()).truncated ? 1 : 0);
    },
  });

  const middleware: MiddlewareHandler = async function metricsMiddleware(c, next) {
    const started = performance.now();
    await next();
    // The matched pattern (`/v1/batches/:id`), never the raw path: ids would explode label cardinality.
    const route = c.res.status === 404 && c.error === undefined ? 'unmatched' : routePath(c) || 'unmatched';
    requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    duration.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
  };
  return { registry, middleware };
}

interface BatchTotals {
  items: Record<string, number>;
  batches: Record<string, number>;
  truncated: boolean;
}

/** Sums the counters of every listed batch (the store's tenant set), at most once per TTL. */
function cachedBatchTotals(deps: Pick<AppDeps, 'store'>): () => Promise<BatchTotals> {
  let cached: { at: number; value: Promise<BatchTotals> } | undefined;
  return () => {
    if (cached === undefined || Date.now() - cached.at > BATCH_SCAN_TTL_MS) {
      const value = scanBatches(deps);
      cached = { at: Date.now(), value };
      value.catch(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
}

async function scanBatches(deps: Pick<AppDeps, 'store'>): Promise<BatchTotals> {
  const totals: BatchTotals = { items: {}, batches: {}, truncated: false };
  let scanned = 0;
  for await (const chunk of deps.store.listedBatchIds()) {
    if (scanned >= MAX_BATCHES_SCANNED) {
      totals.truncated = true;
      return totals;
    }
    scanned += chunk.length;
    const found = await Promise.all(chunk.map((id) => deps.store.getBatchInternal(id)));
    for (const f of found) {
      if (f === null) continue;
      totals.batches[f.batch.status] = (totals.batches[f.batch.status] ?? 0) + 1;
      for (const [state, n] of Object.entries(f.batch.counts)) {
        if (state !== 'total') totals.items[state] = (totals.items[state] ?? 0) + n;
      }
    }
  }
  return totals;
}
