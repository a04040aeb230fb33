import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { knownMetricNames } from './known-metrics.js';
import { metricNames } from './promql-metrics.js';
import { promtool } from './promtool.js';

const dir = fileURLToPath(new URL('../prometheus/', import.meta.url));

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups: { name: string; rules: Rule[] }[] = parse(readFileSync(`${dir}alerts.yml`, 'utf8')).groups;
const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

describe('infra/prometheus/alerts.yml', () => {
  test('promtool check rules accepts it', () => {
    expect(promtool(['check', 'rules', 'alerts.yml'], dir)).toContain('SUCCESS');
  });

  test('promtool test rules: every alert fires on its bad series and stays silent on healthy ones', () => {
    expect(promtool(['test', 'rules', 'alerts.test.yml'], dir)).toContain('SUCCESS');
  });

  test('alerts.test.yml covers every alert, each with a case where it fires', () => {
    const tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] = parse(
      readFileSync(`${dir}alerts.test.yml`, 'utf8'),
    ).tests;
    const firing = new Set(
      tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname),
      ),
    );
    expect([...firing].sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  test('every alert waits (for:), has a severity, a summary, a description and a runbook section', () => {
    for (const a of alerts) {
      expect(a.for, a.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
      const anchor = a.annotations?.runbook?.match(/^infra\/README\.md#([a-z0-9-]+)$/)?.[1];
      expect(anchor, `${a.alert} runbook`).toBeDefined();
      // GitHub's anchor of a heading `### PixelmillFoo` (or one naming several alerts) is its lower-cased text.
      const headings = [...readme.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      );
      expect(headings, `${a.alert} runbook heading`).toContain(anchor);
    }
  });

  test('rules query only metrics pixelmill or redis_exporter export', () => {
    const known = knownMetricNames();
    for (const rule of groups.flatMap((g) => g.rules)) {
      for (const name of metricNames(rule.expr)) expect(known, `${rule.alert}: ${name}`).toContain(name);
    }
  });
});
