/**
 * @module The one result of every step of a generation (admission, capacity, the provider call, the
 * upload). Steps only decide; settle.ts alone turns an outcome into batch-store and BullMQ moves.
 */
import type { ItemError, ProviderError } from '@pixelmill/core';
import type { ModelSpec } from '@pixelmill/providers';

export type Outcome =
  /** Every image is stored (or was copied by dedupe, `reused`): the item succeeds. */
  | { kind: 'done'; reused?: boolean }
  /** The item ends as failed. `unpriced`: ended before anything of this model counts (no cost). */
  | { kind: 'fail'; error: ItemError; unpriced?: boolean }
  /** The item's batch was cancelled while it was spooled: it ends cancelled. */
  | { kind: 'cancel' }
  /** Nothing left for this job (its item is gone, already ended, or taken by another runner). */
  | { kind: 'drop' }
  /** Another live runner holds the item's lease: look again after waitMs. */
  | { kind: 'busy'; waitMs: number }
  /**
   * Try again after ms without spending an attempt. `refundAttempt`: the item was started by this
   * run, so its attempt is given back. `queue`: the model has no capacity, its queue pauses for ms;
   * `job`: only this job waits (a hinted 429, a key taken out of rotation).
   */
  | { kind: 'wait'; ms: number; refundAttempt: boolean; error: ItemError; via: 'queue' | 'job' }
  /** Spend an attempt: BullMQ retries the job after its backoff (workers.ts itemBackoffMs). */
  | { kind: 'retry'; error: ProviderError }
  /** Move the item to another model's queue (its fallback, or back to its own). */
  | { kind: 'reroute'; to: ModelSpec; reason: string };
