import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadEnv } from './env.js';
import { ConfigError } from './errors.js';
import { loadPixelmillConfig } from './pixelmill-config.js';

const providers = `providers:
  - name: gemini
    kind: gemini
    api_keys: [k1]
    models: [{ id: gemini-3-pro-image }]
`;
const write = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'pm-quota-config-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
};
const problemsOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('tenant quota defaults (environment)', () => {
  test('unset means 0: unlimited', () => {
    const env = loadEnv({});
    expect(env.PIXELMILL_TENANT_MAX_OPEN_BATCHES).toBe(0);
    expect(env.PIXELMILL_TENANT_MAX_QUEUED_ITEMS).toBe(0);
    expect(env.PIXELMILL_TENANT_ITEMS_PER_MINUTE).toBe(0);
  });

  test('parsed as whole numbers', () => {
    const env = loadEnv({
      PIXELMILL_TENANT_MAX_OPEN_BATCHES: '3',
      PIXELMILL_TENANT_MAX_QUEUED_ITEMS: '1000',
      PIXELMILL_TENANT_ITEMS_PER_MINUTE: '600',
    });
    expect(env.PIXELMILL_TENANT_MAX_OPEN_BATCHES).toBe(3);
    expect(env.PIXELMILL_TENANT_MAX_QUEUED_ITEMS).toBe(1000);
    expect(env.PIXELMILL_TENANT_ITEMS_PER_MINUTE).toBe(600);
  });

  test('a bad value names each variable', () => {
    const message = problemsOf(() =>
      loadEnv({
        PIXELMILL_TENANT_MAX_OPEN_BATCHES: '-1',
        PIXELMILL_TENANT_MAX_QUEUED_ITEMS: 'many',
        PIXELMILL_TENANT_ITEMS_PER_MINUTE: '1.5',
      }),
    );
    expect(message).toContain('PIXELMILL_TENANT_MAX_OPEN_BATCHES');
    expect(message).toContain('PIXELMILL_TENANT_MAX_QUEUED_ITEMS');
    expect(message).toContain('PIXELMILL_TENANT_ITEMS_PER_MINUTE');
  });
});

describe('tenants section of PIXELMILL_CONFIG', () => {
  test('optional; overrides are read per tenant', () => {
    expect(loadPixelmillConfig(write(providers), {})?.tenants).toBeUndefined();
    const config = loadPixelmillConfig(
      write(`${providers}tenants:\n  acme: { max_open_batches: 2, items_per_minute: 0 }\n  globex: {}\n`),
      {},
    );
    expect(config?.tenants).toEqual({ acme: { max_open_batches: 2, items_per_minute: 0 }, globex: {} });
  });

  test('a bad field stops start-up naming PIXELMILL_CONFIG and its path', () => {
    const message = problemsOf(() =>
      loadPixelmillConfig(
        write(
          `${providers}tenants:\n  acme: { max_open_batches: -1, max_queued_items: ten, items_per_minut: 5 }\n  "bad tenant": {}\n`,
        ),
        {},
      ),
    );
    expect(message).toContain('PIXELMILL_CONFIG');
    expect(message).toContain('tenants.acme.max_open_batches');
    expect(message).toContain('tenants.acme.max_queued_items');
    expect(message).toContain('items_per_minut');
    expect(message).toContain('bad tenant');
  });
});
