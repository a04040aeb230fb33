import { type ApiMetrics, createApiMetrics } from '@pixelmill/api';
import { createWorkerMetrics } from '@pixelmill/worker';

/** redis_exporter (oliver006/redis_exporter), which operators run beside Redis: infra/README.md. */
const REDIS_EXPORTER_METRICS = ['redis_memory_used_bytes', 'redis_memory_max_bytes'] as const;

/** Series Prometheus itself writes. */
const PROMETHEUS_METRICS = ['ALERTS', 'ALERTS_FOR_STATE', 'up'] as const;

/** A histogram is queried through its _bucket, _sum and _count series; a summary through _sum and _count. */
function seriesNames(registry: ApiMetrics['registry']): string[] {
  return registry.getMetricsAsArray().flatMap(({ name, type }) => {
    // prom-client's runtime type is the lower-case name ('histogram'), whatever its typings say.
    if (String(type) === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
    if (String(type) === 'summary') return [name, `${name}_sum`, `${name}_count`];
    return [name];
  });
}

/**
 * Every series name the API and the worker export, read from their registries. Metrics are registered
 * when the registry is created; their sources are only read on a scrape, which never happens here.
 */
function exportedMetricNames(): Set<string> {
  const api = createApiMetrics({} as Parameters<typeof createApiMetrics>[0], { processMetrics: true });
  // Sources present (never read) so every optional metric is registered too.
  const worker = createWorkerMetrics({ revocations: {}, outbox: {} } as Parameters<
    typeof createWorkerMetrics
  >[0]);
  return new Set([...seriesNames(api.registry), ...seriesNames(worker.registry)]);
}

/** Every name a rule or a dashboard may query. */
export function knownMetricNames(): Set<string> {
  return new Set([...exportedMetricNames(), ...REDIS_EXPORTER_METRICS, ...PROMETHEUS_METRICS]);
}
