import { createHash } from 'node:crypto';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';

/** How long a finished request's answer is kept for replays (api.md: 24 h). */
const DONE_TTL_S = 24 * 3600;
/** A claim whose request never finished (a crashed API) frees the key after this long. */
const PENDING_TTL_S = 15 * 60;
/** How long a duplicate waits for the first request with its key to finish. */
const WAIT_MS = 60_000;

export interface IdempotencyRecord {
  state: 'pending' | 'done';
  hash?: string;
  batch_id?: string;
  /** The 201 carried a server-made webhook secret: a replay returns it again. */
  secret_generated?: boolean;
}

/**
 * `Idempotency-Key` on batch creation. The first request claims the key with SET NX (so concurrent
 * duplicates never both create a batch), and records its body hash and batch id when it is accepted;
 * a failed request frees the key. A later request with the key gets the first answer again when its
 * body hash matches, 409 `idempotency_conflict` otherwise.
 */
export class Idempotency {
  private readonly redisKey: string;

  constructor(
    private readonly deps: AppDeps,
    tenantId: string,
    key: string,
  ) {
    if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
      throw new ApiError(400, 'invalid_request', 'Idempotency-Key must be 1–255 visible ASCII characters', [
        { path: 'Idempotency-Key', message: 'Expected 1–255 visible ASCII characters' },
      ]);
    }
    // Hashed: the key is client-chosen text, kept out of Redis key names as is.
    this.redisKey = deps.store.keys.idempotency(tenantId, createHash('sha256').update(key).digest('hex'));
  }

  /** True when this request now owns the key and must do the work. */
  async claim(): Promise<boolean> {
    const pending: IdempotencyRecord = { state: 'pending' };
    const set = await this.deps.redis.set(this.redisKey, JSON.stringify(pending), 'EX', PENDING_TTL_S, 'NX');
    return set === 'OK';
  }

  async complete(hash: string, batchId: string, secretGenerated: boolean): Promise<void> {
    const done: IdempotencyRecord = {
      state: 'done',
      hash,
      batch_id: batchId,
      ...(secretGenerated ? { secret_generated: true } : {}),
    };
    await this.deps.redis.set(this.redisKey, JSON.stringify(done), 'EX', DONE_TTL_S);
  }

  /** The request failed: the key is free again (a corrected request may use it). */
  async release(): Promise<void> {
    await this.deps.redis.del(this.redisKey);
  }

  /**
   * For a request that did not get the claim: the first request's record once it is done. Throws 409
   * when the bodies differ, or when the first request is still running after the wait or failed.
   */
  async replayTarget(hash: string): Promise<{ batchId: string; secretGenerated: boolean }> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const raw = await this.deps.redis.get(this.redisKey);
      const record = raw ? (JSON.parse(raw) as IdempotencyRecord) : null;
      if (record === null) {
        throw new ApiError(
          409,
          'idempotency_conflict',
          'The first request with this Idempotency-Key failed and created nothing; send the request again',
        );
      }
      if (record.state === 'done') {
        if (record.hash !== hash) {
          throw new ApiError(
            409,
            'idempotency_conflict',
            'This Idempotency-Key was used with a different request body in the last 24 hours',
          );
        }
        return { batchId: record.batch_id as string, secretGenerated: record.secret_generated === true };
      }
      if (Date.now() > deadline) {
        throw new ApiError(
          409,
          'idempotency_conflict',
          'A request with this Idempotency-Key is still being processed; retry later',
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
