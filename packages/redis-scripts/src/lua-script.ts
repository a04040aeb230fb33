/**
 * @module Loads a package's Lua scripts (`<dir>/<name>-<numKeys>.lua`) with their `@include`s and runs
 * them with EVALSHA, falling back to EVAL when the server does not know the script (first call,
 * restart, SCRIPT FLUSH). EVAL also caches it, so the fallback happens once per server. Plain EVALSHA
 * rather than ioredis `defineCommand` keeps the caller's Redis object unchanged and the calls typed;
 * {@link scriptCommand} defines a command only for pipelines, which need one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { assertOneHashTag } from './hash-tag.js';

export interface LuaScript {
  readonly name: string;
  /** Fixed key count, or the size of one key group for variadic scripts (`name-3n.lua`). */
  readonly keysPerCall: number;
  readonly variadic: boolean;
  readonly source: string;
  readonly sha: string;
}

/** Loads the scripts of one directory, each once per process (the files do not change while running). */
export interface LuaScripts {
  (fileName: string): LuaScript;
  /** Reads the file again (tests that check every script's header). */
  load(fileName: string): LuaScript;
}

const INCLUDE = /^--- @include "([^"]+)"\s*$/gm;
/** `<name>-<numKeys>.lua`, or `<name>-<k>n.lua` for k keys per item of a variable list. */
const FILE_NAME = /^([A-Za-z]+)-(\d+)(n?)\.lua$/;
/** Includes every package shares, e.g. `--- @include "@pixelmill/redis-scripts/clock.lua"`. */
const SHARED = '@pixelmill/redis-scripts/';
const SHARED_DIR = new URL('./lua/', import.meta.url);

/**
 * Inlines `--- @include "path"` lines (BullMQ's convention), each file once per script. A path is
 * relative to the scripts' directory, or names a shared include of this package.
 */
function resolveIncludes(source: string, dir: URL, seen: Set<string>): string {
  return source.replace(INCLUDE, (_line, path: string) => {
    if (seen.has(path)) return '';
    seen.add(path);
    const file = path.startsWith(SHARED)
      ? new URL(path.slice(SHARED.length), SHARED_DIR)
      : new URL(path, dir);
    return resolveIncludes(readFileSync(file, 'utf8'), dir, seen);
  });
}

/** Reads `fileName` from `dir` (a directory URL, ending in `/`) with its includes inlined. */
export function loadLuaScript(dir: URL, fileName: string): LuaScript {
  const match = FILE_NAME.exec(fileName);
  if (!match) throw new Error(`Lua script name must be <name>-<numKeys>.lua: ${fileName}`);
  const source = resolveIncludes(readFileSync(new URL(fileName, dir), 'utf8'), dir, new Set());
  return {
    name: match[1]!,
    keysPerCall: Number(match[2]),
    variadic: match[3] === 'n',
    source,
    sha: createHash('sha1').update(source).digest('hex'),
  };
}

/** The scripts under `dir`, e.g. `luaScripts(new URL('./lua/', import.meta.url))`. */
export function luaScripts(dir: URL): LuaScripts {
  const cache = new Map<string, LuaScript>();
  const get = (fileName: string): LuaScript => {
    let script = cache.get(fileName);
    if (!script) {
      script = loadLuaScript(dir, fileName);
      cache.set(fileName, script);
    }
    return script;
  };
  return Object.assign(get, { load: (fileName: string) => loadLuaScript(dir, fileName) });
}

function checkKeyCount(script: LuaScript, count: number): void {
  const ok = script.variadic ? count > 0 && count % script.keysPerCall === 0 : count === script.keysPerCall;
  if (!ok) throw new Error(`${script.name}: wrong number of keys (${count})`);
}

/**
 * Runs the script with EVALSHA (EVAL once per server that does not know it yet). Refuses keys that
 * do not share one hash tag (hash-tag.ts): a script's keys must live in one cluster slot.
 */
export async function runLuaScript(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  checkKeyCount(script, keys.length);
  assertOneHashTag(script.name, keys);
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return await redis.eval(script.source, keys.length, ...keys, ...args);
  }
}

/**
 * Defines the script as a command on this connection (once) and returns its name, so a pipeline or
 * MULTI can call it: `pipe[scriptCommand(redis, script)](...keys, ...args)`. Fixed key counts only.
 */
export function scriptCommand(redis: Redis, script: LuaScript): string {
  if (script.variadic) throw new Error(`${script.name}: a variadic script cannot be a pipeline command`);
  const command = `pm_${script.name}_${script.keysPerCall}`;
  const target = redis as unknown as Record<string, unknown>;
  if (target[command] === undefined) {
    redis.defineCommand(command, { numberOfKeys: script.keysPerCall, lua: script.source });
  }
  return command;
}
