import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * Loads `lua/<name>-<numKeys>.lua` once per connection (EVALSHA with automatic fallback to EVAL,
 * which is what ioredis' defineCommand does). The key count comes from the file name, as in BullMQ.
 */
export type ScriptName =
  | 'startItem-2'
  | 'requeueItem-2'
  | 'endItem-3'
  | 'closeItem-3'
  | 'gateItem-3'
  | 'retryItem-2'
  | 'reopenBatch-1'
  | 'completeBatch-2'
  | 'claimFinalize-1'
  | 'insertChunk-3'
  | 'scanStatus-1'
  | 'itemLease-1'
  | 'reserveQuota-2'
  | 'releaseQuota-2'
  | 'qaNearDuplicates-4'
  | 'createDelivery-4'
  | 'recordAttempt-1';

const sources = new Map<ScriptName, string>();

function source(name: ScriptName): string {
  let lua = sources.get(name);
  if (lua === undefined) {
    lua = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
    sources.set(name, lua);
  }
  return lua;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Makes sure the script is defined on this connection, so pipelines can call it by its command name. */
export function scriptCommand(redis: Redis, name: ScriptName): string {
  const command = `pm_${name.replace('-', '_')}`;
  const target = redis as unknown as Record<string, ScriptFn | undefined>;
  if (target[command] === undefined) {
    redis.defineCommand(command, { numberOfKeys: Number(name.split('-')[1]), lua: source(name) });
  }
  return command;
}

export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  const command = scriptCommand(redis, name);
  const target = redis as unknown as Record<string, ScriptFn | undefined>;
  return (target[command] as ScriptFn)(...keys, ...args);
}
