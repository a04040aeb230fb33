// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the YAML in these strings uses the config file's own ${VAR} syntax, which is what is under test.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { loadConfigFile } from './config-file.js';
import { loadEnv } from './env.js';
import { ConfigError } from './errors.js';

describe('loadEnv', () => {
  test('defaults', () => {
    const env = loadEnv({});
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.PIXELMILL_QUEUE_PREFIX).toBe('pixelmill');
    expect(env.WORKER_CONCURRENCY).toBe(32);
  });

  test("the API's request timeout: Node's 300 s unless set, 0 for none, never negative", () => {
    expect(loadEnv({}).PIXELMILL_REQUEST_TIMEOUT_MS).toBe(300_000);
    expect(loadEnv({ PIXELMILL_REQUEST_TIMEOUT_MS: '0' }).PIXELMILL_REQUEST_TIMEOUT_MS).toBe(0);
    expect(() => loadEnv({ PIXELMILL_REQUEST_TIMEOUT_MS: '-1' })).toThrow(/PIXELMILL_REQUEST_TIMEOUT_MS/);
  });

  test('parses tenant keys', () => {
    const env = loadEnv({ PIXELMILL_API_KEYS: 'acme:sk_live_123456,globex:sk_live_456789' });
    expect(env.PIXELMILL_API_KEYS).toEqual([
      { tenantId: 'acme', key: 'sk_live_123456' },
      { tenantId: 'globex', key: 'sk_live_456789' },
    ]);
  });

  test('a bad value names the variable and never echoes a key', () => {
    let error: unknown;
    try {
      loadEnv({ PIXELMILL_API_KEYS: 'acme:short', WORKER_CONCURRENCY: 'lots', REDIS_URL: 'http://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PIXELMILL_API_KEYS');
    expect(message).toContain('WORKER_CONCURRENCY');
    expect(message).toContain('REDIS_URL');
    expect(message).not.toContain('short');
  });

  test('REDIS_CLUSTER_NODES: seed nodes, or an error naming the variable and the bad entry', () => {
    expect(
      loadEnv({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' }).REDIS_CLUSTER_NODES,
    ).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(loadEnv({}).REDIS_CLUSTER_NODES).toBeUndefined();
    for (const bad of ['10.0.0.1', '10.0.0.1:7000,redis-b', 'a:0', 'a:70000', 'redis://a:7000']) {
      expect(() => loadEnv({ REDIS_CLUSTER_NODES: bad }), bad).toThrow(
        /REDIS_CLUSTER_NODES.*entry \d must be host:port/,
      );
    }
  });
});

describe('loadConfigFile', () => {
  const schema = z.object({
    providers: z.array(z.object({ name: z.string(), api_keys: z.array(z.string().min(1)) })),
  });
  const write = (text: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'pm-config-')), 'config.yaml');
    writeFileSync(file, text);
    return file;
  };

  test('interpolates variables with defaults', () => {
    const file = write('providers:\n  - name: gemini\n    api_keys: [${K1}, "${K2:-fallback}"]\n');
    expect(loadConfigFile(file, schema, { K1: 'abc' })).toEqual({
      providers: [{ name: 'gemini', api_keys: ['abc', 'fallback'] }],
    });
  });

  test('a missing variable stops start-up with its name', () => {
    const file = write('providers:\n  - name: gemini\n    api_keys: [${GEMINI_API_KEY_2}]\n');
    expect(() => loadConfigFile(file, schema, {})).toThrow(/GEMINI_API_KEY_2/);
  });

  test('a bad field names its path in the file', () => {
    const file = write('{"providers": [{"name": 3, "api_keys": []}]}');
    expect(() => loadConfigFile(file, schema, {})).toThrow(/providers\.0\.name/);
  });

  test('an unreadable file names PIXELMILL_CONFIG', () => {
    expect(() => loadConfigFile('/nonexistent/pm.yaml', schema, {})).toThrow(/PIXELMILL_CONFIG/);
  });
});
