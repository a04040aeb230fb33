/**
 * @module @pixelmill/redis-scripts: the one loader and runner of every package's Lua scripts, and the
 * decoders of their replies.
 */
export {
  type LuaScript,
  type LuaScripts,
  loadLuaScript,
  luaScripts,
  runLuaScript,
  scriptCommand,
} from './lua-script.js';
export { replyArray, replyNumber, replyNumberOrNull, replyString } from './reply.js';
