/**
 * @module This package's Lua scripts (./lua), loaded with their includes and run by
 * @pixelmill/redis-scripts.
 */
import { type LuaScript, luaScripts } from '@pixelmill/redis-scripts';

export { type LuaScript, runLuaScript } from '@pixelmill/redis-scripts';

const scripts = luaScripts(new URL('./lua/', import.meta.url));

/** Loads a script once per process (the files do not change while running). */
export const luaScript = (fileName: string): LuaScript => scripts(fileName);

/** Reads a script again, with its includes inlined. */
export const loadLuaScript = (fileName: string): LuaScript => scripts.load(fileName);
