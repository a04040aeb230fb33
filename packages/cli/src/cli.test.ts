import { describe, expect, test } from 'vitest';
import { runCli, usage } from './cli.js';
import { kindOf } from './submit.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

describe('pixelmill argument handling (no API needed)', () => {
  test('no command prints the usage and exits 2; --help exits 0', async () => {
    const a = io();
    expect(await runCli([], {}, a.io)).toBe(2);
    expect(a.out.join('')).toBe(usage);
    const b = io();
    expect(await runCli(['--help'], {}, b.io)).toBe(0);
  });

  test('a missing key, an unknown option or command, or a missing argument exit 2 with a reason', async () => {
    const noKey = io();
    expect(await runCli(['status', 'batch_1'], {}, noKey.io)).toBe(2);
    expect(noKey.err.join('')).toContain('PIXELMILL_API_KEY');
    const badOption = io();
    expect(await runCli(['status', '--colour'], { PIXELMILL_API_KEY: 'k' }, badOption.io)).toBe(2);
    const unknown = io();
    expect(await runCli(['frobnicate'], { PIXELMILL_API_KEY: 'k' }, unknown.io)).toBe(2);
    expect(unknown.err.join('')).toContain('Unknown command "frobnicate"');
    const missing = io();
    expect(await runCli(['download'], { PIXELMILL_API_KEY: 'k' }, missing.io)).toBe(2);
    expect(missing.err.join('')).toContain('download needs a batch id');
  });

  test('the catalog format follows the file extension', () => {
    expect(kindOf('catalog.CSV')).toBe('csv');
    expect(kindOf('items.ndjson')).toBe('ndjson');
    expect(kindOf('items.jsonl')).toBe('ndjson');
    expect(kindOf('batch.json')).toBe('json');
    expect(() => kindOf('catalog.xlsx')).toThrow('.csv');
  });
});
