/**
 * @module The one place an Outcome (outcome.ts) becomes moves in the batch store and in BullMQ:
 * ending the item, giving its attempt back, delaying or pausing, rerouting, or retrying.
 */
import { type BatchSpec, type GenerateJob, type Item, type ItemLease, newestOutputs } from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';
import type { ModelSpec } from '@pixelmill/providers';
import { DelayedError, type Job, type Queue, Worker } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { endItem } from './end-item.js';
import { waitForLease } from './item-lease.js';
import type { Outcome } from './outcome.js';
import type { createScheduling } from './scheduling.js';

/** What one run of a generate job knows so far; the steps fill it in. */
export interface Run {
  job: Job<GenerateJob>;
  token: string | undefined;
  data: GenerateJob;
  lease: ItemLease;
  log: Logger;
  item?: Item;
  spec?: BatchSpec;
  model?: ModelSpec;
  queue?: Queue;
  /** Indexes of the item's images already stored. */
  stored: Set<number>;
  /** The item was started by this run (startItem): a wait gives its attempt back. */
  started: boolean;
  /** Called once the item succeeded (dedupe remembers the generation). */
  remember?: () => Promise<void>;
}

type Scheduling = Pick<ReturnType<typeof createScheduling>, 'pause' | 'reroute'>;

export async function settle(
  deps: WorkerDeps,
  scheduling: Scheduling,
  run: Run,
  outcome: Outcome,
): Promise<void> {
  const { data, job, token, item, model, log } = run;
  const priced = { images: run.stored.size, model, size: item?.size };
  switch (outcome.kind) {
    case 'drop':
      return;
    case 'busy':
      return waitForLease(job, token, outcome.waitMs);
    case 'done':
      if (outcome.reused) {
        // No model given: cost 0, no provider; item events and finalize as for any end.
        await endItem(deps, data, { status: 'succeeded', error: null, images: item?.n ?? 0 });
        return;
      }
      await endItem(deps, data, { status: 'succeeded', error: null, ...priced });
      await run.remember?.();
      log.debug({ images: run.stored.size }, 'item succeeded');
      return;
    case 'cancel':
      await endItem(deps, data, {
        status: 'cancelled',
        error: null,
        images: item ? newestOutputs(item).length : 0,
        model,
        size: item?.size,
      });
      log.info('item of a cancelled batch not resumed; its spooled images were dropped');
      return;
    case 'fail':
      if (outcome.unpriced) await endItem(deps, data, { status: 'failed', error: outcome.error, images: 0 });
      else await endItem(deps, data, { status: 'failed', error: outcome.error, ...priced });
      log.info({ code: outcome.error.code }, 'item failed');
      return;
    case 'reroute':
      if (run.started) await requeue(deps, run, outcome, true);
      await scheduling.reroute(job, data, run.spec!, item!, outcome.to);
      log.info(
        { from: model?.id, to: outcome.to.id, reason: outcome.reason },
        'item moved to a fallback model',
      );
      return;
    case 'wait':
      if (outcome.refundAttempt) await requeue(deps, run, outcome, true);
      if (outcome.via === 'queue' && run.queue !== undefined) {
        // The model has no capacity: its queue pauses; the job goes back to wait, no attempt spent.
        await scheduling.pause(run.queue, outcome.ms);
        throw Worker.RateLimitError();
      }
      await job.moveToDelayed(Date.now() + outcome.ms, token);
      throw new DelayedError();
    case 'retry':
      await requeue(deps, run, outcome, false);
      throw outcome.error;
  }
}

async function requeue(
  deps: WorkerDeps,
  run: Run,
  outcome: Extract<Outcome, { kind: 'wait' | 'retry' | 'reroute' }>,
  refund: boolean,
): Promise<void> {
  const error =
    outcome.kind === 'reroute'
      ? {
          code: 'rate_limited' as const,
          message: `Waiting for provider capacity (${outcome.reason})`,
          retryable: true,
        }
      : outcome.kind === 'retry'
        ? outcome.error.toJSON()
        : outcome.error;
  await deps.store.requeueItem(run.data.batch_id, run.data.item_id, error, {
    refund,
    runner: run.lease.runner,
  });
}
