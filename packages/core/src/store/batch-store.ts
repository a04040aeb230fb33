import type { Redis } from 'ioredis';
import type { Batch, Item, ItemError, ItemOutput, ItemStatus } from '../schemas/batch.js';
import { type StoreKeys, storeKeys } from './keys.js';
import { type BatchSpec, batchFromHash, type ItemSpec, itemFromHash } from './records.js';
import { runScript } from './scripts.js';

export interface NewItem {
  id: string;
  spec: ItemSpec;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Opaque cursors: clients must not build them, so their encoding can change. */
const encodeCursor = (v: string): string => Buffer.from(v).toString('base64url');
const decodeCursor = (c: string | undefined): string | undefined =>
  c ? Buffer.from(c, 'base64url').toString('utf8') : undefined;

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/**
 * Batches and items in Redis. Counters change only inside Lua scripts so that any number of API and
 * worker processes agree on them, and an item ends exactly once.
 */
export class BatchStore {
  readonly keys: StoreKeys;

  constructor(
    readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = storeKeys(prefix);
  }

  /** Step 1 of acceptance: the batch exists but is invisible (not listed, GET answers 404). */
  async insertBatch(input: { id: string; tenantId: string; spec: BatchSpec; total: number }): Promise<void> {
    await this.redis.hset(this.keys.batch(input.id), {
      tenant_id: input.tenantId,
      spec: JSON.stringify(input.spec),
      visible: '0',
      total: input.total,
      queued: input.total,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
      images_generated: 0,
      actual_micros: 0,
    });
  }

  /** Step 2, once per chunk: item records and the batch's ordered item list. */
  async insertItems(batchId: string, tenantId: string, items: NewItem[]): Promise<void> {
    const pipe = this.redis.multi();
    for (const item of items) {
      pipe.hset(this.keys.item(item.id), {
        batch_id: batchId,
        tenant_id: tenantId,
        spec: JSON.stringify(item.spec),
        status: 'queued',
        attempts: 0,
      });
    }
    pipe.rpush(this.keys.batchItems(batchId), ...items.map((i) => i.id));
    await pipe.exec();
  }

  /** Step 3: the batch becomes visible and listed. Until then a failed ingest can be rolled back unseen. */
  async publishBatch(batchId: string, tenantId: string): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.batch(batchId), 'visible', '1')
      .zadd(this.keys.tenantBatches(tenantId), 0, batchId)
      .exec();
  }

  /** Removes everything an unfinished acceptance wrote. */
  async discardBatch(batchId: string, tenantId: string): Promise<string[]> {
    const ids = await this.redis.lrange(this.keys.batchItems(batchId), 0, -1);
    const pipe = this.redis.multi();
    for (let i = 0; i < ids.length; i += 1000)
      pipe.del(...ids.slice(i, i + 1000).map((id) => this.keys.item(id)));
    pipe.del(this.keys.batchItems(batchId), this.keys.batch(batchId));
    pipe.zrem(this.keys.tenantBatches(tenantId), batchId);
    await pipe.exec();
    return ids;
  }

  /** A tenant's visible batch, or null (also for another tenant's batch: callers answer 404). */
  async getBatch(tenantId: string, batchId: string): Promise<Batch | null> {
    const h = await this.redis.hgetall(this.keys.batch(batchId));
    if (h.visible !== '1' || h.tenant_id !== tenantId) return null;
    return batchFromHash(batchId, h).batch;
  }

  /** Internal read for workers: the batch, its tenant and its full spec (with the webhook secret). */
  async getBatchInternal(
    batchId: string,
  ): Promise<{ batch: Batch; tenantId: string; spec: BatchSpec } | null> {
    const h = await this.redis.hgetall(this.keys.batch(batchId));
    if (!h.spec) return null;
    return { ...batchFromHash(batchId, h), spec: JSON.parse(h.spec) as BatchSpec };
  }

  async listBatches(tenantId: string, opts: { cursor?: string; limit: number }): Promise<Page<Batch>> {
    const after = decodeCursor(opts.cursor);
    // Only a batch id this method wrote; anything else would silently select an arbitrary range.
    if (after !== undefined && !/^batch_[0-9a-z]+$/.test(after))
      throw new InvalidCursorError('Invalid cursor');
    // Batch ids sort by creation time, so a reverse lexicographic range is newest-first and stable.
    const ids = await this.redis.zrange(
      this.keys.tenantBatches(tenantId),
      after === undefined ? '+' : `(${after}`,
      '-',
      'BYLEX',
      'REV',
      'LIMIT',
      0,
      opts.limit + 1,
    );
    const page = ids.slice(0, opts.limit);
    const pipe = this.redis.pipeline();
    for (const id of page) pipe.hgetall(this.keys.batch(id));
    const rows = (await pipe.exec()) ?? [];
    const data = rows
      .map(([, h], i) => batchFromHash(page[i] as string, h as Record<string, string>).batch)
      .filter((b) => b.model !== undefined);
    return {
      data,
      next_cursor: ids.length > opts.limit ? encodeCursor(page[page.length - 1] as string) : null,
    };
  }

  /**
   * Items in submission order. The cursor is a position in the batch's item list, which never changes
   * after acceptance, so paging is stable while items change state.
   */
  async listItems(
    batchId: string,
    opts: { cursor?: string; limit: number; status?: ItemStatus },
  ): Promise<Page<Item>> {
    const raw = decodeCursor(opts.cursor);
    // Only a position this method wrote: Number() would also take '', ' 1', '0x2' and '1e1'.
    if (raw !== undefined && !/^(0|[1-9]\d{0,15})$/.test(raw)) throw new InvalidCursorError('Invalid cursor');
    let pos = raw === undefined ? 0 : Number(raw);
    if (!Number.isSafeInteger(pos)) throw new InvalidCursorError('Invalid cursor');
    const data: Item[] = [];
    const listKey = this.keys.batchItems(batchId);
    const total = await this.redis.llen(listKey);
    // With a status filter, scan forward in windows until the page is full or the list ends.
    while (data.length < opts.limit && pos < total) {
      const window = Math.max(opts.limit * 2, 100);
      const ids = await this.redis.lrange(listKey, pos, pos + window - 1);
      const pipe = this.redis.pipeline();
      for (const id of ids) pipe.hgetall(this.keys.item(id));
      const rows = (await pipe.exec()) ?? [];
      let consumed = 0;
      for (const [i, [, h]] of rows.entries()) {
        consumed = i + 1;
        const item = itemFromHash(ids[i] as string, h as Record<string, string>);
        if (opts.status === undefined || item.status === opts.status) data.push(item);
        if (data.length === opts.limit) break;
      }
      pos += consumed;
      if (ids.length === 0) break;
    }
    return { data, next_cursor: pos < total ? encodeCursor(String(pos)) : null };
  }

  async getItem(
    itemId: string,
  ): Promise<(Item & { tenant_id: string; last_error: ItemError | null }) | null> {
    const h = await this.redis.hgetall(this.keys.item(itemId));
    if (!h.spec) return null;
    return {
      ...itemFromHash(itemId, h),
      tenant_id: h.tenant_id ?? '',
      last_error: h.last_error ? (JSON.parse(h.last_error) as ItemError) : null,
    };
  }

  async startItem(
    batchId: string,
    itemId: string,
  ): Promise<{ state: 'started' | 'ended' | 'missing'; attempts: number }> {
    const [state, attempts] = (await runScript(
      this.redis,
      'startItem-2',
      [this.keys.item(itemId), this.keys.batch(batchId)],
      [new Date().toISOString()],
    )) as [string, number];
    return { state: state as 'started' | 'ended' | 'missing', attempts: Number(attempts) };
  }

  /**
   * Puts a running item back to queued. `refund` gives back the attempt counted at start: waiting for
   * a rate limit is not an attempt.
   */
  async requeueItem(
    batchId: string,
    itemId: string,
    lastError: ItemError,
    opts: { refund: boolean } = { refund: false },
  ): Promise<boolean> {
    const r = await runScript(
      this.redis,
      'requeueItem-2',
      [this.keys.item(itemId), this.keys.batch(batchId)],
      [JSON.stringify(lastError), opts.refund ? 1 : 0],
    );
    return Number(r) === 1;
  }

  /** Records one stored image of an item as soon as it is in the bucket, so a retry never redoes it. */
  async recordOutput(itemId: string, output: ItemOutput): Promise<void> {
    await this.redis.hset(this.keys.item(itemId), `out:${output.index}`, JSON.stringify(output));
  }

  async endItem(
    batchId: string,
    itemId: string,
    result: {
      status: 'succeeded' | 'failed' | 'cancelled';
      error?: ItemError | null;
      costMicros: number;
      images: number;
      provider?: string | null;
    },
  ): Promise<{ ended: boolean; last: boolean }> {
    const [ended, last] = (await runScript(
      this.redis,
      'endItem-2',
      [this.keys.item(itemId), this.keys.batch(batchId)],
      [
        result.status,
        new Date().toISOString(),
        result.error ? JSON.stringify(result.error) : '',
        result.costMicros,
        result.images,
        result.provider ?? '',
      ],
    )) as [number, number];
    return { ended: Number(ended) === 1, last: Number(last) === 1 };
  }

  async cancelItem(batchId: string, itemId: string): Promise<{ cancelled: boolean; last: boolean }> {
    const [cancelled, last] = (await runScript(
      this.redis,
      'cancelItem-2',
      [this.keys.item(itemId), this.keys.batch(batchId)],
      [new Date().toISOString()],
    )) as [number, number];
    return { cancelled: Number(cancelled) === 1, last: Number(last) === 1 };
  }

  /** The finalize step's last write: the batch is complete and its manifest is in the bucket. */
  async completeBatch(batchId: string, manifestKey: string): Promise<void> {
    await this.redis.hset(this.keys.batch(batchId), {
      manifest_key: manifestKey,
      completed_at: new Date().toISOString(),
    });
  }

  /** Ids of a batch's items, in order, a window at a time (for manifests and cancellation). */
  async *itemIds(batchId: string, window = 1000): AsyncGenerator<string[]> {
    for (let pos = 0; ; pos += window) {
      const ids = await this.redis.lrange(this.keys.batchItems(batchId), pos, pos + window - 1);
      if (ids.length === 0) return;
      yield ids;
      if (ids.length < window) return;
    }
  }

  async getItems(ids: string[]): Promise<Item[]> {
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.keys.item(id));
    const rows = (await pipe.exec()) ?? [];
    return rows.map(([, h], i) => itemFromHash(ids[i] as string, h as Record<string, string>));
  }
}
