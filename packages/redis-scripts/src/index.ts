/** @module @pixelmill/redis-scripts: the one loader and runner of every package's Lua scripts. */
export {
  type LuaScript,
  type LuaScripts,
  loadLuaScript,
  luaScripts,
  runLuaScript,
  scriptCommand,
} from './lua-script.js';
