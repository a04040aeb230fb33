import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type StoreKeys, storeKeys } from './keys.js';
import { runScript } from './scripts.js';

/** An item the feeder picked, with the retry round its job is made for. */
export interface FedItem {
  itemId: string;
  round: number;
}

/** Items picked for a model whose jobs may not have been added (a crash between the feeder's steps). */
export interface PendingFeed {
  token: string;
  /** When it was picked (ms since the epoch). */
  at: number;
  batchId: string;
  items: FedItem[];
}

/** Items a feed call looks at, at most (a few ms of Redis time). */
const FEED_SCAN_WINDOW = 5000;

/**
 * What the feeder needs in Redis: per model, the set of batches with items still to queue, each
 * batch's feed cursor in its item list (batch hash field `feed:<model>`), and the record of picked
 * items whose jobs are being added. Items are picked atomically (feedItems-5.lua), so any number of
 * feeders in any processes never pick one item twice for one round.
 */
export class FeedStore {
  readonly keys: StoreKeys;

  constructor(
    readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = storeKeys(prefix);
  }

  /** Makes a batch's items feedable for these models, from the start of its item list. */
  async register(batchId: string, models: readonly string[]): Promise<void> {
    const pipe = this.redis.multi();
    for (const model of models)
      pipe.hset(this.keys.batch(batchId), `feed:${model}`, 0).sadd(this.keys.feedSet(model), batchId);
    await pipe.exec();
  }

  /** Forgets a batch that was rolled back: out of the models' sets, its pending feeds dropped. */
  async forget(batchId: string, models: readonly string[]): Promise<void> {
    for (const model of models) {
      const tokens = (await this.pending(model)).filter((f) => f.batchId === batchId).map((f) => f.token);
      const pipe = this.redis.multi().srem(this.keys.feedSet(model), batchId);
      if (tokens.length > 0) pipe.hdel(this.keys.feedPending(model), ...tokens);
      await pipe.exec();
    }
  }

  /** Batches with items the feeder may still queue for this model. */
  async batches(model: string): Promise<string[]> {
    return this.redis.smembers(this.keys.feedSet(model));
  }

  /**
   * Picks up to `max` queued items of the model from the batch, in submission order, and records
   * them as pending under a new token (settle it once their jobs are added). `done` when the batch
   * has nothing more to feed for the model (it left the model's set).
   * `inspect`: the batch's items may differ in model or lane (each one's spec is read).
   */
  async take(
    model: string,
    batchId: string,
    max: number,
    inspect: boolean,
  ): Promise<{ token: string; items: FedItem[]; done: boolean }> {
    const token = `${Date.now()}-${randomUUID()}`;
    const [count, done, ...pairs] = (await runScript(
      this.redis,
      'feedItems-5',
      [
        this.keys.batchItems(batchId),
        this.keys.batch(batchId),
        this.keys.feedSet(model),
        this.keys.feedPending(model),
        this.keys.batchSpecs(batchId),
      ],
      [this.keys.item(''), model, max, FEED_SCAN_WINDOW, token, batchId, inspect ? 1 : 0],
    )) as [number, number, ...(string | number)[]];
    const items: FedItem[] = [];
    for (let i = 0; i < Number(count) * 2; i += 2)
      items.push({ itemId: String(pairs[i]), round: Number(pairs[i + 1]) });
    return { token, items, done: Number(done) === 1 };
  }

  /** Every pending feed of the model. */
  async pending(model: string): Promise<PendingFeed[]> {
    const h = await this.redis.hgetall(this.keys.feedPending(model));
    return Object.entries(h).map(([token, value]) => {
      const [batchId, list] = value.split('\n') as [string, string];
      return {
        token,
        at: Number.parseInt(token, 10),
        batchId,
        items: list.split(',').map((pair) => {
          const at = pair.lastIndexOf(':');
          return { itemId: pair.slice(0, at), round: Number(pair.slice(at + 1)) };
        }),
      };
    });
  }

  /** The jobs of a pending feed are added. */
  async settle(model: string, token: string): Promise<void> {
    await this.redis.hdel(this.keys.feedPending(model), token);
  }
}
