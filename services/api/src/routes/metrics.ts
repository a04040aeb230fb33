import { Hono } from 'hono';
import type { ApiMetrics } from '../metrics/api-metrics.js';

/**
 * `GET /metrics` in Prometheus text. Open like /healthz (aggregates only: no ids, keys or tenant
 * names); keep it off the public ingress (docs/reliability.md "Observability").
 */
export function metricsRoutes(metrics: ApiMetrics): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': metrics.registry.contentType });
  });
  return app;
}
