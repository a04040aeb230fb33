import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LuaScript, loadLuaScript, luaScripts, runLuaScript, scriptCommand } from './lua-script.js';

const fixtures = new URL('./test-fixtures/', import.meta.url);
let redis: Redis;

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
});

afterAll(() => {
  redis.disconnect();
});

describe('luaScripts', () => {
  it('inlines each include once, from the scripts directory or the shared includes', async () => {
    const script = loadLuaScript(fixtures, 'twice-0.lua');
    expect(script).toMatchObject({ name: 'twice', keysPerCall: 0, variadic: false });
    expect(script.source).not.toMatch(/@include/);
    expect(script.source.match(/local function answer/g)).toHaveLength(1);
    expect(script.source).toMatch(/local function clockMs/);
    expect(script.sha).toBe(createHash('sha1').update(script.source).digest('hex'));
    expect(await runLuaScript(redis, script, [], [])).toEqual([42, 7]);
  });

  it('loads a script once per directory', () => {
    const scripts = luaScripts(fixtures);
    expect(scripts('twice-0.lua')).toBe(scripts('twice-0.lua'));
    expect(scripts.load('twice-0.lua')).not.toBe(scripts('twice-0.lua'));
    expect(scripts.load('twice-0.lua')).toEqual(scripts('twice-0.lua'));
  });

  it('refuses a file name without its key count', () => {
    expect(() => loadLuaScript(fixtures, 'includes/answer.lua')).toThrow(/<name>-<numKeys>\.lua/);
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
    await expect(runLuaScript(redis, loadLuaScript(fixtures, 'twice-0.lua'), ['a'], [])).rejects.toThrow(
      /wrong number of keys/,
    );
    const pair = loadLuaScript(fixtures, 'pair-2n.lua');
    await expect(runLuaScript(redis, pair, ['a'], [])).rejects.toThrow(/wrong number of keys/);
    expect(await runLuaScript(redis, pair, ['{t}a', '{t}b', '{t}c', '{t}d'], [])).toBe(4);
  });

  it('defines a fixed-key script as a command that pipelines can call', async () => {
    const script = loadLuaScript(fixtures, 'twice-0.lua');
    const command = scriptCommand(redis, script);
    expect(scriptCommand(redis, script)).toBe(command);
    const pipe = redis.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    pipe[command]?.();
    pipe[command]?.();
    expect(await pipe.exec()).toEqual([
      [null, [42, 7]],
      [null, [42, 7]],
    ]);
    expect(() => scriptCommand(redis, loadLuaScript(fixtures, 'pair-2n.lua'))).toThrow(/variadic/);
  });
});

describe('runLuaScript on keys of different slots', () => {
  it('refuses the call before Redis sees it', async () => {
    const pair = loadLuaScript(fixtures, 'pair-2n.lua');
    await expect(runLuaScript(redis, pair, ['t:{a}:1', 't:{b}:1'], [])).rejects.toThrow(
      /pair: keys hash on different parts/,
    );
  });
});
