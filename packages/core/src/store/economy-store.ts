import type { Redis } from 'ioredis';
import { type StoreKeys, storeKeys } from './keys.js';

/** What is known of one pack's provider batch job; kept until the batch's records expire with it. */
export interface EconomyRecord {
  /** Our name of the job (its display name / metadata): how an orphan is found after a crash. */
  label: string;
  /** Index of the provider key the job was created with (jobs belong to a key / project). */
  keyIndex: number;
  /** The provider's id once the job is known to exist; absent: intent only (maybe an orphan). */
  providerId?: string;
  /** Polls so far (the backoff between polls grows with them). */
  polls: number;
  /** Set once every result was handled and every item of the pack ended or moved to realtime. */
  done: boolean;
  /** Set once the job was asked to cancel (the pixelmill batch was cancelled). */
  cancelled: boolean;
  /** Files uploaded for the job (input, references), to delete once its results are stored. */
  uploads: string[];
}

/**
 * The economy lane's Redis state. The intent (label and key) is written BEFORE the provider job is
 * created, so a worker that crashes between creating it and recording its id finds it again by
 * label instead of paying for a second job.
 */
export class EconomyStore {
  constructor(
    readonly redis: Redis,
    /** The batch store's keys (one prefix for everything pixelmill writes). */
    readonly keys: StoreKeys,
  ) {}

  static forPrefix(redis: Redis, prefix: string): EconomyStore {
    return new EconomyStore(redis, storeKeys(prefix));
  }

  async get(batchId: string, pack: number): Promise<EconomyRecord | null> {
    const h = await this.redis.hgetall(this.keys.economyJob(batchId, pack));
    if (!h.label) return null;
    return {
      label: h.label,
      keyIndex: Number(h.key_index ?? 0),
      ...(h.provider_id ? { providerId: h.provider_id } : {}),
      polls: Number(h.polls ?? 0),
      done: h.done === '1',
      cancelled: h.cancelled === '1',
      uploads: h.uploads ? h.uploads.split(',') : [],
    };
  }

  /** Records the intent once; returns the record and whether this call wrote it (false: an earlier run did). */
  async intend(
    batchId: string,
    pack: number,
    intent: { label: string; keyIndex: number },
  ): Promise<{ record: EconomyRecord; fresh: boolean }> {
    const key = this.keys.economyJob(batchId, pack);
    const fresh = (await this.redis.hsetnx(key, 'label', intent.label)) === 1;
    if (fresh) await this.redis.hset(key, 'key_index', intent.keyIndex, 'polls', 0);
    const record = await this.get(batchId, pack);
    if (record === null) throw new Error(`economy record ${key} vanished`);
    return { record, fresh };
  }

  async submitted(batchId: string, pack: number, providerId: string, uploads: string[] = []): Promise<void> {
    await this.redis.hset(
      this.keys.economyJob(batchId, pack),
      'provider_id',
      providerId,
      'uploads',
      uploads.join(','),
    );
  }

  async polled(batchId: string, pack: number): Promise<number> {
    return this.redis.hincrby(this.keys.economyJob(batchId, pack), 'polls', 1);
  }

  async markCancelled(batchId: string, pack: number): Promise<void> {
    await this.redis.hset(this.keys.economyJob(batchId, pack), 'cancelled', '1');
  }

  async finish(batchId: string, pack: number): Promise<void> {
    await this.redis.hset(this.keys.economyJob(batchId, pack), 'done', '1');
  }

  /** Counts a result dropped because the item's image was already stored (first result wins). */
  async countDuplicate(): Promise<number> {
    return this.redis.incr(this.keys.economyDuplicates());
  }

  async duplicates(): Promise<number> {
    return Number((await this.redis.get(this.keys.economyDuplicates())) ?? 0);
  }
}
