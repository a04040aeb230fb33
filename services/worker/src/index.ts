/** What other workspace packages may use: the metric registry (infra checks its dashboards against it). */
export { createWorkerMetrics, type WorkerMetrics } from './metrics/worker-metrics.js';
