/**
 * @module The outbox: item and batch ends waiting to become webhook events (and, for an item that ends
 * its batch, the finalize job). Entries are written by the Lua scripts that make the change they report
 * (endItem-3, closeItem-3, gateItem-3, completeBatch-2, and the review scripts), in the same atomic step, so a process that dies
 * right after the change cannot lose the report. A relay reads them through one consumer group and
 * removes an entry only after acting on it: an entry a dead relay held is claimed by another one once
 * it has been idle long enough. Acting on an entry must therefore be idempotent.
 */
import type { Redis } from 'ioredis';
import { storeKeys } from './keys.js';

export const OUTBOX_GROUP = 'relay';

/** An item ended (`status` its final status); `last` when it ended its batch (finalize it). */
export interface ItemEndEntry {
  kind: 'item';
  batchId: string;
  itemId: string;
  status: string;
  /** The item's finished_at, as the script wrote it. */
  at: string;
  last: boolean;
}

/** A batch round completed (its manifest is in the bucket). */
export interface BatchEndEntry {
  kind: 'batch';
  batchId: string;
  round: number;
  at: string;
}

/**
 * An item changed without ending (reviewItem-2, newVersion-2, regenerateItem-3): `type` is the event it
 * becomes, `key` tells this change from the item's others (its webhook id follows from it).
 */
export interface ItemChangeEntry {
  kind: 'change';
  type: 'item.reviewed' | 'item.regenerated';
  batchId: string;
  itemId: string;
  key: string;
  at: string;
}

export type OutboxEntry = (ItemEndEntry | BatchEndEntry | ItemChangeEntry) & { id: string };

type StreamRows = [string, string[]][];

function parseEntry(id: string, flat: string[]): OutboxEntry | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
  if (f.kind === 'item' && f.batch && f.item) {
    return {
      id,
      kind: 'item',
      batchId: f.batch,
      itemId: f.item,
      status: f.status ?? '',
      at: f.at ?? '',
      last: f.last === '1',
    };
  }
  if (
    f.kind === 'change' &&
    f.batch &&
    f.item &&
    (f.type === 'item.reviewed' || f.type === 'item.regenerated')
  ) {
    return {
      id,
      kind: 'change',
      type: f.type,
      batchId: f.batch,
      itemId: f.item,
      key: f.key ?? '',
      at: f.at ?? '',
    };
  }
  if (f.kind === 'batch' && f.batch) {
    return { id, kind: 'batch', batchId: f.batch, round: Number(f.round ?? 0), at: f.at ?? '' };
  }
  return null;
}

export class OutboxStore {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = storeKeys(prefix).outbox();
  }

  /** Creates the consumer group (reading from the stream's start) if it does not exist yet. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.key, OUTBOX_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  /**
   * Entries nobody has read yet, waiting up to `blockMs` for one. Blocking: call it on a connection of
   * its own. Malformed entries come back as null so the caller can acknowledge them.
   */
  async read(consumer: string, count: number, blockMs: number): Promise<(OutboxEntry | { id: string })[]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      OUTBOX_GROUP,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.key,
      '>',
    )) as [string, StreamRows][] | null;
    const rows = reply?.[0]?.[1] ?? [];
    return rows.map(([id, flat]) => parseEntry(id, flat) ?? { id });
  }

  /** Entries read by any relay but not removed for `minIdleMs` (a relay that died or failed on them). */
  async claimIdle(
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<(OutboxEntry | { id: string })[]> {
    const reply = (await this.redis.xautoclaim(
      this.key,
      OUTBOX_GROUP,
      consumer,
      minIdleMs,
      '0-0',
      'COUNT',
      count,
    )) as [string, StreamRows, string[]?];
    // Entries deleted meanwhile come back as nil rows in Redis 7.0 (and in the third part later).
    return (reply[1] ?? [])
      .filter((r) => Array.isArray(r?.[1]))
      .map(([id, flat]) => parseEntry(id, flat) ?? { id });
  }

  /**
   * Entries not relayed yet: unread ones and ones a relay holds but has not finished (a finished entry
   * is deleted), so the stream's length.
   */
  async pending(): Promise<number> {
    return this.redis.xlen(this.key);
  }

  /** Done with an entry: acknowledged and deleted in one step. */
  async remove(id: string): Promise<void> {
    await this.redis.multi().xack(this.key, OUTBOX_GROUP, id).xdel(this.key, id).exec();
  }

  /** Entries not yet removed (read or not). */
  async length(): Promise<number> {
    return this.redis.xlen(this.key);
  }
}
