import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { knownMetricNames } from './known-metrics.js';
import { metricNames } from './promql-metrics.js';

interface Target {
  expr?: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
  annotations: { list: { expr?: string }[] };
}

const dashboard: Dashboard = JSON.parse(
  readFileSync(fileURLToPath(new URL('../grafana/pixelmill.json', import.meta.url)), 'utf8'),
);
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');

/** Every PromQL the dashboard runs: panel targets, annotations, and label_values(metric, label) variables. */
function queries(): { where: string; expr: string }[] {
  const out = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr ?? '' })));
  for (const a of dashboard.annotations.list) if (a.expr) out.push({ where: 'annotation', expr: a.expr });
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const metric = q?.match(/^label_values\((\w+),\s*\w+\)$/)?.[1];
    if (metric) out.push({ where: `variable ${v.name}`, expr: metric });
  }
  return out;
}

describe('infra/grafana/pixelmill.json', () => {
  test('has a panel for each topic an operator acts on, each with a query', () => {
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
    const all = queries()
      .map((q) => q.expr)
      .join('\n');
    for (const metric of [
      'pixelmill_queue_oldest_waiting_seconds',
      'pixelmill_queue_jobs',
      'pixelmill_provider_rate_limited_total',
      'pixelmill_provider_keys_revoked',
      'pixelmill_circuit_state',
      'pixelmill_upload_gate_open',
      'pixelmill_webhook_delivery_attempts_total',
      'pixelmill_webhook_exhausted_total',
      'pixelmill_webhook_endpoints_disabled_total',
      'pixelmill_webhook_outbox_pending',
      'redis_memory_used_bytes',
    ])
      expect(all, metric).toContain(metric);
  });

  test('every query parses and selects only metrics pixelmill or redis_exporter export', () => {
    const known = knownMetricNames();
    for (const { where, expr } of queries()) {
      const names = metricNames(expr);
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(known, `${where}: ${name}`).toContain(name);
    }
  });
});
