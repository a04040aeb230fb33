import { scriptCommand as defineScriptCommand, luaScripts, runLuaScript } from '@pixelmill/redis-scripts';
import type { Redis } from 'ioredis';

/**
 * The store's scripts, `lua/<name>-<numKeys>.lua` (the key count comes from the file name, as in
 * BullMQ), loaded with their includes by @pixelmill/redis-scripts and run with EVALSHA (EVAL once per
 * server when it does not know them yet).
 */
export type ScriptName =
  | 'startItem-2'
  | 'requeueItem-2'
  | 'endItem-3'
  | 'closeItem-3'
  | 'closeQueued-3'
  | 'gateItem-3'
  | 'retryItem-2'
  | 'retryWindow-3'
  | 'feedItems-5'
  | 'materializeItems-3'
  | 'reopenBatch-1'
  | 'completeBatch-2'
  | 'claimFinalize-1'
  | 'insertChunk-4'
  | 'scanItems-1'
  | 'newVersion-2'
  | 'regenerateItem-3'
  | 'reviewItem-2'
  | 'itemLease-1'
  | 'reserveQuota-2'
  | 'releaseQuota-2'
  | 'qaNearDuplicates-4'
  | 'admitDelivery-3'
  | 'startRedelivery-3'
  | 'createDelivery-6'
  | 'recordAttempt-3'
  | 'claimDeliveries-3'
  | 'deferDelivery-2'
  | 'scheduleDelivery-4';

const scripts = luaScripts(new URL('./lua/', import.meta.url));

/** Makes sure the script is defined on this connection, so pipelines can call it by its command name. */
export function scriptCommand(redis: Redis, name: ScriptName): string {
  return defineScriptCommand(redis, scripts(`${name}.lua`));
}

export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  return runLuaScript(redis, scripts(`${name}.lua`), keys, args);
}
