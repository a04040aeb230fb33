import type { Redis } from 'ioredis';
import { scanEveryMaster } from '../redis/scan.js';
import type {
  Batch,
  Item,
  ItemError,
  ItemOutput,
  ItemReview,
  ItemStatus,
  VersionCause,
} from '../schemas/batch.js';
import type { Lane } from '../schemas/common.js';
import { MAX_ITEM_VERSIONS, type ReviewStatus } from '../schemas/review.js';
import { type StoreKeys, storeKeys } from './keys.js';
import { decodeCursor, encodeCursor, lexPage } from './paging.js';
import { type BatchSpec, batchFromHash, type ItemSpec, itemFromHash, qaSummary } from './records.js';
import { runScript, scriptCommand } from './scripts.js';

/** Who runs an item (one job in one worker process) and for how long without a renewal. */
export interface ItemLease {
  runner: string;
  ms: number;
}

/** A job an accepted upload's item needs: its lane's queue and model (economy: packed apart when it has reference images). */
export interface IngestJob {
  lane: Lane;
  model: string;
  itemId: string;
  withReferences: boolean;
}

export interface NewItem {
  id: string;
  spec: ItemSpec;
}

/** Filters of an item listing: every one given must match. */
export interface ItemFilter {
  status?: ItemStatus;
  review?: ReviewStatus;
  /** `none`: no output of the chosen version was checked. */
  qa?: 'passed' | 'flagged' | 'none';
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Items whose status Redis checks per call when listing by status (a few ms of Redis time). */
const STATUS_SCAN_WINDOW = 5000;

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

  /**
   * Step 1 of acceptance: the batch exists but is invisible (not listed, GET answers 404, workers do
   * not start its items). Its counts grow as chunks of items are inserted.
   */
  async insertBatch(input: { id: string; tenantId: string; spec: BatchSpec }): Promise<void> {
    const deadline = input.spec.expires_at ? Date.parse(input.spec.expires_at) : Number.NaN;
    await this.redis.hset(this.keys.batch(input.id), {
      tenant_id: input.tenantId,
      spec: JSON.stringify(input.spec),
      visible: '0',
      total: 0,
      queued: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
      expired: 0,
      images_generated: 0,
      actual_micros: 0,
      ...(Number.isFinite(deadline) ? { expires_at_ms: deadline } : {}),
    });
  }

  /**
   * Step 2 of acceptance, once per chunk, in one round trip (insertChunk-4.lua): finds custom_ids
   * already used in this ingest and writes the new items (their specs; a record only for an economy
   * item: the feeder makes a realtime item's), unless `write` is false or a duplicate turns
   * up (the batch is then refused and rolled back). Returns each duplicate's index in the chunk and
   * where its custom_id was first seen.
   */
  async insertChunk(
    batchId: string,
    tenantId: string,
    items: (NewItem & { where: string })[],
    write: boolean,
  ): Promise<{ index: number; firstSeen: string }[]> {
    const args: string[] = [this.keys.item(''), batchId, tenantId, write ? '1' : '0'];
    for (const item of items)
      args.push(
        item.spec.custom_id,
        item.where,
        item.id,
        JSON.stringify(item.spec),
        item.spec.lane === 'economy' ? '0' : '1',
      );
    const reply = (await runScript(
      this.redis,
      'insertChunk-4',
      [
        this.keys.ingestIds(batchId),
        this.keys.batchItems(batchId),
        this.keys.batch(batchId),
        this.keys.batchSpecs(batchId),
      ],
      args,
    )) as (number | string)[];
    const dups: { index: number; firstSeen: string }[] = [];
    for (let i = 0; i < reply.length; i += 2)
      dups.push({ index: Number(reply[i]), firstSeen: String(reply[i + 1]) });
    return dups;
  }

  /**
   * Step 3: the batch becomes visible and listed, with its final spec (totals known only once the last
   * chunk is in). Until then a failed ingest can be rolled back unseen.
   */
  async publishBatch(batchId: string, tenantId: string, spec?: BatchSpec): Promise<void> {
    const pipe = this.redis.multi();
    if (spec !== undefined) pipe.hset(this.keys.batch(batchId), 'spec', JSON.stringify(spec));
    await pipe
      .hset(this.keys.batch(batchId), 'visible', '1')
      .zadd(this.keys.tenantBatches(tenantId), 0, batchId)
      .sadd(this.keys.tenants(), tenantId)
      .exec();
  }

  /** Writes a batch's final spec before it is published (the feeder reads models and lanes from it). */
  async writeSpec(batchId: string, spec: BatchSpec): Promise<void> {
    await this.redis.hset(this.keys.batch(batchId), 'spec', JSON.stringify(spec));
  }

  /** Ids of every listed batch of every tenant, a window at a time (operational gauges). */
  async *listedBatchIds(window = 200): AsyncGenerator<string[]> {
    for (const tenantId of await this.redis.smembers(this.keys.tenants())) {
      const ids = await this.redis.zrange(this.keys.tenantBatches(tenantId), '0', '-1');
      for (let i = 0; i < ids.length; i += window) yield ids.slice(i, i + window);
    }
  }

  /**
   * Adds the tenants whose batches were listed before the tenant set existed (one SCAN of every
   * master; run once at start-up, never in a request).
   */
  async registerListedTenants(): Promise<void> {
    const pattern = this.keys.tenantBatches('*');
    const [head, tail] = pattern.split('*') as [string, string];
    for await (const { keys } of scanEveryMaster(this.redis, pattern)) {
      const tenants = keys.map((k) => k.slice(head.length, k.length - tail.length));
      await this.redis.sadd(this.keys.tenants(), ...tenants);
    }
  }

  /**
   * Notes the jobs a chunk's items need, to be created once the whole upload is valid (no job exists
   * for a batch that is refused). Sent right behind the chunk's insertChunk on the same connection.
   */
  async noteIngestJobs(batchId: string, jobs: IngestJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.redis.rpush(
      this.keys.ingestJobs(batchId),
      ...jobs.map((j) => `${j.lane}\t${j.model}\t${j.itemId}\t${j.withReferences ? 1 : 0}`),
    );
  }

  /** The jobs noted by noteIngestJobs, in order, a window at a time. */
  async *ingestJobs(batchId: string, window = 1000): AsyncGenerator<IngestJob[]> {
    for (let pos = 0; ; pos += window) {
      const rows = await this.redis.lrange(this.keys.ingestJobs(batchId), pos, pos + window - 1);
      if (rows.length === 0) return;
      yield rows.map((row) => {
        const [lane, model, itemId, refs] = row.split('\t') as [Lane, string, string, string];
        return { lane, model, itemId, withReferences: refs === '1' };
      });
      if (rows.length < window) return;
    }
  }

  /** After acceptance: forgets the custom_ids the ingest checked for duplicates and its job notes. */
  async endIngest(batchId: string): Promise<void> {
    await this.redis.unlink(this.keys.ingestIds(batchId), this.keys.ingestJobs(batchId));
  }

  /** Removes everything an unfinished acceptance wrote, a window of items at a time. */
  async discardBatch(batchId: string, tenantId: string): Promise<void> {
    const listKey = this.keys.batchItems(batchId);
    for (;;) {
      const ids = await this.redis.lrange(listKey, 0, 999);
      if (ids.length === 0) break;
      await this.redis
        .multi()
        .unlink(...ids.map((id) => this.keys.item(id)))
        .ltrim(listKey, ids.length, -1)
        .exec();
    }
    await this.redis
      .multi()
      .unlink(
        listKey,
        this.keys.batchSpecs(batchId),
        this.keys.batch(batchId),
        this.keys.ingestIds(batchId),
        this.keys.ingestJobs(batchId),
      )
      .zrem(this.keys.tenantBatches(tenantId), batchId)
      .exec();
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
    // Batch ids sort by creation time: newest first.
    const { members: page, nextCursor } = await lexPage(
      this.redis,
      this.keys.tenantBatches(tenantId),
      after,
      opts.limit,
      'newest',
    );
    const pipe = this.redis.pipeline();
    for (const id of page) pipe.hgetall(this.keys.batch(id));
    const rows = (await pipe.exec()) ?? [];
    const data = rows
      .map(([, h], i) => batchFromHash(page[i] as string, h as Record<string, string>).batch)
      .filter((b) => b.model !== undefined);
    return {
      data,
      next_cursor: nextCursor,
    };
  }

  /**
   * Items in submission order. The cursor is a position in the batch's item list, which never changes
   * after acceptance, so paging is stable while items change state.
   */
  async listItems(
    batchId: string,
    opts: { cursor?: string; limit: number } & ItemFilter,
  ): Promise<Page<Item>> {
    const raw = decodeCursor(opts.cursor);
    // Only a position this method wrote: Number() would also take '', ' 1', '0x2' and '1e1'.
    if (raw !== undefined && !/^(0|[1-9]\d{0,15})$/.test(raw)) throw new InvalidCursorError('Invalid cursor');
    let pos = raw === undefined ? 0 : Number(raw);
    if (!Number.isSafeInteger(pos)) throw new InvalidCursorError('Invalid cursor');
    const listKey = this.keys.batchItems(batchId);
    const total = await this.redis.llen(listKey);
    const filters: string[] = [];
    // An item never fed has no record: its status is what the batch gives its unfed items.
    if (opts.status !== undefined)
      filters.push(
        'status',
        opts.status,
        (await this.redis.hget(this.keys.batch(batchId), 'unfed_status')) ?? 'queued',
      );
    if (opts.review !== undefined) filters.push('review_status', opts.review, 'pending');
    if (opts.qa !== undefined) filters.push('qa_status', opts.qa, 'none');
    if (filters.length === 0) {
      const ids = await this.redis.lrange(listKey, pos, pos + opts.limit - 1);
      const end = pos + ids.length;
      const positions = ids.map((_, i) => pos + i);
      return {
        data: await this.getItems(ids, { batchId, positions }),
        next_cursor: end < total ? encodeCursor(String(end)) : null,
      };
    }
    // With filters, Redis scans the item fields itself (scanItems-1.lua), a few thousand items per
    // call, until the page is full or the list ends; whole records are read for the matches only.
    const matches: string[] = [];
    const positions: number[] = [];
    while (matches.length < opts.limit && pos < total) {
      const [next, ...found] = (await runScript(
        this.redis,
        'scanItems-1',
        [listKey],
        [this.keys.item(''), pos, opts.limit - matches.length, STATUS_SCAN_WINDOW, ...filters],
      )) as [number, ...(string | number)[]];
      for (let i = 0; i < found.length; i += 2) {
        matches.push(String(found[i]));
        positions.push(Number(found[i + 1]));
      }
      if (Number(next) <= pos) break;
      pos = Number(next);
    }
    // A match may have changed between the scan and this read; it is still shown (as it is now).
    return {
      data: await this.getItems(matches, { batchId, positions }),
      next_cursor: pos < total ? encodeCursor(String(pos)) : null,
    };
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

  /**
   * Moves an item to running and counts the attempt. With `lease`, the item is the runner's until
   * the lease runs out (renewed by `renewItemLease`): another runner gets `busy` meanwhile, even when
   * BullMQ handed it the job because the first one's lock lapsed (see startItem-2.lua).
   */
  async startItem(
    batchId: string,
    itemId: string,
    lease?: ItemLease,
  ): Promise<{ state: 'started' | 'busy' | 'ended' | 'missing'; attempts: number; waitMs: number }> {
    const [state, attempts, waitMs] = (await runScript(
      this.redis,
      'startItem-2',
      [this.keys.item(itemId), this.keys.batch(batchId)],
      [new Date().toISOString(), lease?.runner ?? '', lease?.ms ?? 0],
    )) as [string, number, number];
    return {
      state: state as 'started' | 'busy' | 'ended' | 'missing',
      attempts: Number(attempts),
      waitMs: Number(waitMs),
    };
  }

  /**
   * Extends the runner's lease on an item by `ms` from now: `held`. `gone` when no lease is held (the
   * item ended or was requeued), `taken` when another runner took the item over.
   */
  async renewItemLease(itemId: string, lease: ItemLease): Promise<'held' | 'gone' | 'taken'> {
    const r = Number(
      await runScript(this.redis, 'itemLease-1', [this.keys.item(itemId)], [lease.runner, lease.ms]),
    );
    return r === 1 ? 'held' : r === 0 ? 'gone' : 'taken';
  }

  /** Gives the item up without ending it (a job handed back at shutdown); false when not held. */
  async releaseItemLease(itemId: string, runner: string): Promise<boolean> {
    return Number(await runScript(this.redis, 'itemLease-1', [this.keys.item(itemId)], [runner, 0])) === 1;
  }

  /**
   * Puts a running item back to queued and releases its lease. `refund` gives back the attempt
   * counted at start: waiting for a rate limit is not an attempt. With `runner`, nothing changes
   * when another runner has taken the item over.
   */
  async requeueItem(
    batchId: string,
    itemId: string,
    lastError: ItemError,
    opts: { refund: boolean; runner?: string } = { refund: false },
  ): Promise<boolean> {
    const r = await runScript(
      this.redis,
      'requeueItem-2',
      [this.keys.item(itemId), this.keys.batch(batchId)],
      [JSON.stringify(lastError), opts.refund ? 1 : 0, opts.runner ?? ''],
    );
    return Number(r) === 1;
  }

  /**
   * Records one stored image of an item as soon as it is in the bucket, so a retry never redoes it,
   * and the item's QA summary (`qa_status`: one flagged output makes it `flagged`).
   */
  async recordOutput(itemId: string, output: ItemOutput): Promise<void> {
    const key = this.keys.item(itemId);
    const pipe = this.redis.multi().hset(key, `out:${output.index}`, JSON.stringify(output));
    if (output.qa?.status === 'flagged') pipe.hset(key, 'qa_status', 'flagged');
    else if (output.qa?.status === 'passed') pipe.hsetnx(key, 'qa_status', 'passed');
    await pipe.exec();
  }

  /**
   * A running item's flagged outputs are generated again as a new version (newVersion-2.lua): `keep`
   * are the indexes that carry over. Returns the new version's number, 0 when the item is not running
   * or has its most versions.
   */
  async startQaVersion(
    batchId: string,
    itemId: string,
    change: { keep: number[]; cause: VersionCause; replacedMicros: number; replacedImages: number },
  ): Promise<number> {
    return Number(
      await runScript(
        this.redis,
        'newVersion-2',
        [this.keys.item(itemId), this.keys.outbox()],
        [
          new Date().toISOString(),
          change.keep.join(','),
          JSON.stringify(change.cause),
          change.replacedMicros,
          change.replacedImages,
          batchId,
          itemId,
          MAX_ITEM_VERSIONS,
        ],
      ),
    );
  }

  /**
   * An ended item goes back to queued for a new version with `spec` (regenerateItem-3.lua). `round` is
   * its job's retry round; `missing` when it is not of this batch, `open` when it is queued or running,
   * `full` when it has its most versions.
   */
  async regenerateItem(
    batchId: string,
    itemId: string,
    spec: ItemSpec,
    cause: VersionCause,
  ): Promise<{ state: 'queued'; round: number; version: number } | { state: 'missing' | 'open' | 'full' }> {
    const [round, version] = (await runScript(
      this.redis,
      'regenerateItem-3',
      [this.keys.item(itemId), this.keys.batch(batchId), this.keys.outbox()],
      [
        new Date().toISOString(),
        JSON.stringify(spec),
        JSON.stringify(cause),
        batchId,
        itemId,
        MAX_ITEM_VERSIONS,
      ],
    )) as [number, number];
    const r = Number(round);
    if (r === -1) return { state: 'missing' };
    if (r === -2) return { state: 'open' };
    if (r === -3) return { state: 'full' };
    return { state: 'queued', round: r, version: Number(version) };
  }

  /** Records a review of each of these items of the batch (reviewItem-2.lua); returns those reviewed. */
  async reviewItems(batchId: string, itemIds: string[], review: ItemReview): Promise<string[]> {
    const command = scriptCommand(this.redis, 'reviewItem-2');
    const pipe = this.redis.pipeline() as unknown as Record<
      string,
      (...a: (string | number)[]) => unknown
    > & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    const json = JSON.stringify(review);
    for (const id of itemIds)
      pipe[command]?.(
        this.keys.item(id),
        this.keys.outbox(),
        batchId,
        id,
        json,
        review.status,
        review.at ?? new Date().toISOString(),
      );
    const rows = (await pipe.exec()) ?? [];
    return rows.flatMap(([err, r], i) => {
      if (err) throw err;
      return Number(r) === 1 ? [itemIds[i] as string] : [];
    });
  }

  /**
   * Marks one version (and optionally one of its variants) as the item's chosen output, with the QA
   * summary of that version for listings. The caller checked that the version and index exist.
   */
  async chooseOutput(itemId: string, chosen: { version: number; index: number | null }): Promise<void> {
    const key = this.keys.item(itemId);
    const item = itemFromHash(itemId, await this.redis.hgetall(key));
    const version = item.versions.find((v) => v.version === chosen.version);
    const qa = qaSummary(version?.outputs ?? []);
    const pipe = this.redis.multi().hset(key, 'chosen', JSON.stringify(chosen));
    if (qa === null) pipe.hdel(key, 'qa_status');
    else pipe.hset(key, 'qa_status', qa);
    await pipe.exec();
  }

  /** The lane that now obtains the item's images (an economy item handed to realtime). */
  async setItemLane(itemId: string, lane: Lane): Promise<void> {
    await this.redis.hset(this.keys.item(itemId), 'lane', lane);
  }

  /** True once cancel was asked for the batch (its running economy jobs are then cancelled). */
  async cancelRequested(batchId: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.batch(batchId), 'cancel_requested')) === 1;
  }

  async endItem(
    batchId: string,
    itemId: string,
    result: {
      status: 'succeeded' | 'failed' | 'cancelled' | 'expired';
      error?: ItemError | null;
      costMicros: number;
      images: number;
      provider?: string | null;
    },
  ): Promise<{ ended: boolean; last: boolean }> {
    const [ended, last] = (await runScript(
      this.redis,
      'endItem-3',
      [this.keys.item(itemId), this.keys.batch(batchId), this.keys.outbox()],
      [
        result.status,
        new Date().toISOString(),
        result.error ? JSON.stringify(result.error) : '',
        result.costMicros,
        result.images,
        result.provider ?? '',
        batchId,
        itemId,
      ],
    )) as [number, number];
    return { ended: Number(ended) === 1, last: Number(last) === 1 };
  }

  /**
   * Ends every queued item of the batch as cancelled or expired, a window of its item list per call
   * (closeQueued-3.lua), in submission order. Yields, per window, the items it closed with their retry
   * round (their job ids) and whether that ended the batch (its finalize is then claimed).
   */
  async *closeQueued(
    batchId: string,
    status: 'cancelled' | 'expired',
    window = STATUS_SCAN_WINDOW,
  ): AsyncGenerator<{ closed: { itemId: string; retries: number }[]; last: boolean }> {
    const keys = [this.keys.batchItems(batchId), this.keys.batch(batchId), this.keys.outbox()];
    const now = new Date().toISOString();
    for (let pos = 0; ; ) {
      const [next, last, ...pairs] = (await runScript(this.redis, 'closeQueued-3', keys, [
        this.keys.item(''),
        pos,
        window,
        status,
        now,
        batchId,
      ])) as [number, number, ...(string | number)[]];
      const closed: { itemId: string; retries: number }[] = [];
      for (let i = 0; i < pairs.length; i += 2)
        closed.push({ itemId: String(pairs[i]), retries: Number(pairs[i + 1]) });
      yield { closed, last: Number(last) === 1 };
      if (Number(next) < pos + window) return;
      pos = Number(next);
    }
  }

  /**
   * Ends the queued ones of these items as cancelled or expired (one pipeline). For each: whether it was
   * closed, whether that ended the batch (claim its finalize) and the item's retry round (its job id).
   */
  async closeItems(
    batchId: string,
    itemIds: string[],
    status: 'cancelled' | 'expired',
  ): Promise<{ itemId: string; closed: boolean; last: boolean; retries: number }[]> {
    const command = scriptCommand(this.redis, 'closeItem-3');
    const pipe = this.redis.pipeline() as unknown as Record<
      string,
      (...a: (string | number)[]) => unknown
    > & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    const now = new Date().toISOString();
    for (const id of itemIds)
      pipe[command]?.(
        this.keys.item(id),
        this.keys.batch(batchId),
        this.keys.outbox(),
        status,
        now,
        batchId,
        id,
      );
    const rows = (await pipe.exec()) ?? [];
    return rows.map(([err, r], i) => {
      if (err) throw err;
      const [closed, last, retries] = r as [number, number, number];
      return {
        itemId: itemIds[i] as string,
        closed: Number(closed) === 1,
        last: Number(last) === 1,
        retries: Number(retries),
      };
    });
  }

  /**
   * Whether a worker may run an item now (see gateItem-3.lua): `pending` while the batch is being
   * ingested; `busy` while another runner holds its lease; a queued item of a cancelled or expired
   * batch ends here. With `round` (the job's retry round), a job older than the item's round is
   * `ended` (stale).
   */
  async gateItem(
    batchId: string,
    itemId: string,
    runner = '',
    round?: number,
  ): Promise<{
    state: 'go' | 'busy' | 'pending' | 'missing' | 'ended' | 'cancelled' | 'expired';
    last: boolean;
    waitMs: number;
  }> {
    const now = new Date();
    const [state, last, waitMs] = (await runScript(
      this.redis,
      'gateItem-3',
      [this.keys.item(itemId), this.keys.batch(batchId), this.keys.outbox()],
      [now.toISOString(), now.getTime(), runner, batchId, itemId, round ?? ''],
    )) as [string, number, number | undefined];
    return { state: state as 'go', last: Number(last) === 1, waitMs: Number(waitMs ?? 0) };
  }

  /** Asks for a batch to be cancelled; false when it had already ended. */
  async requestCancel(batchId: string): Promise<boolean> {
    const key = this.keys.batch(batchId);
    const [completed] = await this.redis.hmget(key, 'completed_at');
    if (completed) return false;
    await this.redis.hsetnx(key, 'cancel_requested', new Date().toISOString());
    return true;
  }

  /** Re-opens a batch for a retry round (see reopenBatch-1.lua); returns the round number. */
  async reopenBatch(batchId: string): Promise<number> {
    return Number(await runScript(this.redis, 'reopenBatch-1', [this.keys.batch(batchId)], [Date.now()]));
  }

  /** Puts these items back to queued if their status is one of `statuses`; returns each one's round (0: not retried). */
  async retryItems(
    batchId: string,
    itemIds: string[],
    statuses: readonly ItemStatus[],
  ): Promise<{ itemId: string; round: number }[]> {
    const command = scriptCommand(this.redis, 'retryItem-2');
    const pipe = this.redis.pipeline() as unknown as Record<
      string,
      (...a: (string | number)[]) => unknown
    > & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (const id of itemIds)
      pipe[command]?.(this.keys.item(id), this.keys.batch(batchId), statuses.join(','));
    const rows = (await pipe.exec()) ?? [];
    return rows.map(([err, r], i) => {
      if (err) throw err;
      return { itemId: itemIds[i] as string, round: Number(r) };
    });
  }

  /**
   * Puts the items of the batch in one of `statuses` back to queued, a window of its item list per
   * call (retryWindow-3.lua), and hands them to the feeder of each of `models` in the same step.
   * Yields, per window, how many it retried.
   */
  async *retryInWindows(
    batchId: string,
    statuses: readonly ItemStatus[],
    models: readonly string[],
    window = STATUS_SCAN_WINDOW,
  ): AsyncGenerator<number> {
    const keys = [this.keys.batchItems(batchId), this.keys.batch(batchId), this.keys.feedSet('')];
    for (let pos = 0; ; ) {
      const [next, retried] = (await runScript(this.redis, 'retryWindow-3', keys, [
        this.keys.item(''),
        pos,
        window,
        statuses.join(','),
        batchId,
        ...models,
      ])) as [number, number];
      yield Number(retried);
      if (Number(next) < pos + window) return;
      pos = Number(next);
    }
  }

  /** Claims the finalize step when nothing is open (see claimFinalize-1.lua). */
  async claimFinalize(batchId: string): Promise<boolean> {
    const r = await runScript(
      this.redis,
      'claimFinalize-1',
      [this.keys.batch(batchId)],
      [new Date().toISOString()],
    );
    return Number(r) === 1;
  }

  /** The batch's finalize fields: whether it is claimed, the retry round. */
  async finalizeState(batchId: string): Promise<{ claimed: boolean; completed: boolean; round: number }> {
    const [claimed, completed, round] = await this.redis.hmget(
      this.keys.batch(batchId),
      'finalize_claimed',
      'completed_at',
      'round',
    );
    return { claimed: Boolean(claimed), completed: Boolean(completed), round: Number(round ?? 0) };
  }

  /**
   * Counts a review or choice that changed what a batch's files say; returns the new count (the
   * refresh job of this change carries it).
   */
  async markFilesChanged(batchId: string): Promise<number> {
    return this.redis.hincrby(this.keys.batch(batchId), 'file_changes', 1);
  }

  /** The batch's change counter (markFilesChanged). */
  async filesChanges(batchId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.batch(batchId), 'file_changes')) ?? 0);
  }

  /** Records that an item's outputs were copied from an identical earlier generation. */
  async markReused(itemId: string, from: NonNullable<Item['reused_from']>): Promise<void> {
    await this.redis.hset(this.keys.item(itemId), 'reused_from', JSON.stringify(from));
  }

  /**
   * The finalize step's last write: the batch is complete and its manifest and results are in the
   * bucket. False when a retry re-opened it meanwhile (that round completes it).
   */
  async completeBatch(batchId: string, manifestKey: string, resultsKey = ''): Promise<boolean> {
    const r = await runScript(
      this.redis,
      'completeBatch-2',
      [this.keys.batch(batchId), this.keys.outbox()],
      [manifestKey, resultsKey, new Date().toISOString(), batchId],
    );
    return Number(r) === 1;
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

  /** Each item's status and retry round (its job id), in one pipeline; null for an item that is gone. */
  async itemRounds(ids: string[]): Promise<({ status: ItemStatus; round: number } | null)[]> {
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hmget(this.keys.item(id), 'status', 'retries');
    const rows = (await pipe.exec()) ?? [];
    return rows.map(([err, r]) => {
      if (err) throw err;
      const [status, retries] = r as [string | null, string | null];
      return status === null ? null : { status: status as ItemStatus, round: Number(retries ?? 0) };
    });
  }

  /**
   * These items, in order. `at` gives each one's position in the batch's item list: an item never fed
   * (no record yet) is then read from its spec at that position, with the status its batch gives the
   * unfed ones (queued, or what cancel or a deadline made them); without it such an item reads as
   * missing (an item of no batch).
   */
  async getItems(ids: string[], at?: { batchId: string; positions: readonly number[] }): Promise<Item[]> {
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.keys.item(id));
    const rows = ((await pipe.exec()) ?? []).map(([, h]) => h as Record<string, string>);
    const unfed = rows.flatMap((h, i) => (h.spec === undefined ? [i] : []));
    if (at !== undefined && unfed.length > 0) {
      const fill = await this.unfedRecords(
        at.batchId,
        unfed.map((i) => at.positions[i] as number),
      );
      unfed.forEach((i, k) => {
        const record = fill[k];
        if (record !== undefined) rows[i] = record;
      });
    }
    return rows.map((h, i) => itemFromHash(ids[i] as string, h));
  }

  /** The records unfed items at these positions of the batch would have (undefined: no spec there). */
  private async unfedRecords(
    batchId: string,
    positions: readonly number[],
  ): Promise<(Record<string, string> | undefined)[]> {
    const low = Math.min(...positions);
    const high = Math.max(...positions);
    const pipe = this.redis.pipeline().hmget(this.keys.batch(batchId), 'tenant_id', 'unfed_status');
    // One range when the positions are close (a page), else one read per position.
    if (high - low < 1000) pipe.lrange(this.keys.batchSpecs(batchId), low, high);
    else for (const p of positions) pipe.lindex(this.keys.batchSpecs(batchId), p);
    const [head, ...reads] = ((await pipe.exec()) ?? []) as [Error | null, unknown][];
    const [tenantId, status] = (head?.[1] ?? []) as (string | null)[];
    const specs =
      high - low < 1000
        ? positions.map((p) => ((reads[0]?.[1] ?? []) as string[])[p - low])
        : reads.map(([, spec]) => spec as string | null);
    return specs.map((spec) =>
      typeof spec === 'string'
        ? { batch_id: batchId, tenant_id: tenantId ?? '', spec, status: status ?? 'queued', attempts: '0' }
        : undefined,
    );
  }

  /** A batch's items in submission order, a window at a time (manifests, results). */
  async *items(batchId: string, window = 1000): AsyncGenerator<Item[]> {
    let pos = 0;
    for await (const ids of this.itemIds(batchId, window)) {
      yield await this.getItems(ids, { batchId, positions: ids.map((_, i) => pos + i) });
      pos += ids.length;
    }
  }

  /**
   * Gives these items of the batch that were never fed their record now, from their specs (a review
   * of an item that has not started); ids without a spec in the batch are left alone. Finds each one's
   * position with LPOS: one walk of the item list per item, for the rare request that names items.
   */
  async materializeItems(batchId: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(
      await runScript(
        this.redis,
        'materializeItems-3',
        [this.keys.batchItems(batchId), this.keys.batchSpecs(batchId), this.keys.batch(batchId)],
        [this.keys.item(''), batchId, ...ids],
      ),
    );
  }
}
