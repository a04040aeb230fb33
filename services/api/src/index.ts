/** What other workspace packages may use: the metric registry (infra checks its dashboards against it). */
export { type ApiMetrics, createApiMetrics } from './metrics/api-metrics.js';
