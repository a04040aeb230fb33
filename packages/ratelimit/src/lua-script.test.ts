import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LuaScript, loadLuaScript, runLuaScript } from './lua-script.js';
import { connectRedis } from './test-support/redis.js';

const luaDir = new URL('./lua/', import.meta.url);
const scripts = readdirSync(luaDir).filter((f) => f.endsWith('.lua'));
let redis: Redis;

beforeAll(() => {
  redis = connectRedis();
});

afterAll(() => {
  redis.disconnect();
});

describe('Lua scripts', () => {
  it.each(scripts)('%s is named <name>-<numKeys> and documents KEYS, ARGV and output', (file) => {
    const script = loadLuaScript(file);
    const header = readFileSync(new URL(file, luaDir), 'utf8').split(']]')[0] ?? '';
    expect(header.startsWith('--[[')).toBe(true);
    expect(header).toMatch(/KEYS/);
    expect(header).toMatch(/ARGV\[1\]/);
    expect(header).toMatch(/Output/);
    expect(script.source).not.toMatch(/@include/);
  });

  it('falls back to EVAL when the server does not have the script cached', async () => {
    // A source never sent before, so EVALSHA must answer NOSCRIPT.
    const source = `return ARGV[1] .. '-${randomUUID()}'`;
    const script: LuaScript = {
      name: 'probe',
      keysPerCall: 0,
      variadic: false,
      source,
      sha: createHash('sha1').update(source).digest('hex'),
    };
    const first = await runLuaScript(redis, script, [], ['x']);
    expect(first).toMatch(/^x-/);
    expect(await runLuaScript(redis, script, [], ['x'])).toBe(first);
  });

  it('rejects a call with the wrong number of keys', async () => {
    await expect(runLuaScript(redis, loadLuaScript('tryAcquire-3.lua'), ['a'], [])).rejects.toThrow(
      /wrong number of keys/,
    );
    await expect(runLuaScript(redis, loadLuaScript('pickAndAcquire-3n.lua'), ['a', 'b'], [])).rejects.toThrow(
      /wrong number of keys/,
    );
  });
});
