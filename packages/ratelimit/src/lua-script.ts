/**
 * @module Loads the Lua scripts under ./lua and runs them with EVALSHA, falling back to EVAL when
 * the server does not know the script (first call, restart, SCRIPT FLUSH). EVAL also caches it,
 * so the fallback happens once per server. We use EVALSHA instead of ioredis `defineCommand` so
 * the caller's Redis object is not mutated and the calls stay fully typed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

export interface LuaScript {
  readonly name: string;
  /** Fixed key count, or the size of one key group for variadic scripts (`name-3n.lua`). */
  readonly keysPerCall: number;
  readonly variadic: boolean;
  readonly source: string;
  readonly sha: string;
}

const LUA_DIR = new URL('./lua/', import.meta.url);
const INCLUDE = /^--- @include "([^"]+)"\s*$/gm;
/** `<name>-<numKeys>.lua`, or `<name>-<k>n.lua` for k keys per item of a variable list. */
const FILE_NAME = /^([A-Za-z]+)-(\d+)(n?)\.lua$/;

/** Inlines `--- @include "includes/x.lua"` lines (BullMQ's convention), once per file. */
function resolveIncludes(source: string, seen: Set<string>): string {
  return source.replace(INCLUDE, (_line, path: string) => {
    if (seen.has(path)) return '';
    seen.add(path);
    return resolveIncludes(readFileSync(new URL(path, LUA_DIR), 'utf8'), seen);
  });
}

export function loadLuaScript(fileName: string): LuaScript {
  const match = FILE_NAME.exec(fileName);
  if (!match) throw new Error(`Lua script name must be <name>-<numKeys>.lua: ${fileName}`);
  const source = resolveIncludes(readFileSync(new URL(fileName, LUA_DIR), 'utf8'), new Set());
  return {
    name: match[1]!,
    keysPerCall: Number(match[2]),
    variadic: match[3] === 'n',
    source,
    sha: createHash('sha1').update(source).digest('hex'),
  };
}

const cache = new Map<string, LuaScript>();

/** Loads a script once per process (the files do not change while running). */
export function luaScript(fileName: string): LuaScript {
  let script = cache.get(fileName);
  if (!script) {
    script = loadLuaScript(fileName);
    cache.set(fileName, script);
  }
  return script;
}

export async function runLuaScript(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const keyCountOk = script.variadic
    ? keys.length > 0 && keys.length % script.keysPerCall === 0
    : keys.length === script.keysPerCall;
  if (!keyCountOk) throw new Error(`${script.name}: wrong number of keys (${keys.length})`);
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return await redis.eval(script.source, keys.length, ...keys, ...args);
  }
}
