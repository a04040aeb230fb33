import type { FieldProblem } from '@pixelmill/core';
import type { LookupAll } from '@pixelmill/net-guard';
import { describe, expect, it } from 'vitest';
import { ReferenceChecks } from './check-references.js';

describe('ReferenceChecks', () => {
  it('refuses a host whose lookup does not answer in time, without holding the acceptance', async () => {
    const problems: FieldProblem[] = [];
    const hanging: LookupAll = () => new Promise(() => {});
    const checks = new ReferenceChecks({
      tenantId: 'acme',
      allowPrivate: false,
      lookup: hanging,
      report: (p) => problems.push(...p),
      maxProblems: 100,
      lookupTimeoutMs: 50,
    });
    checks.check(['https://slow.example.com/a.png', 'acme/a.png'], (f) => `items[0].${f}`);
    checks.check(['https://slow.example.com/b.png'], (f) => `items[1].${f}`);
    await checks.settled();
    expect(problems).toEqual([
      { path: 'items[0].reference_images[0]', message: 'host slow.example.com did not resolve in time' },
      { path: 'items[1].reference_images[0]', message: 'host slow.example.com did not resolve in time' },
    ]);
  });
});
