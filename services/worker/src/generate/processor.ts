import {
  type GenerateJob,
  generateJobSchema,
  type ItemError,
  type ItemLease,
  type Size,
  tenantRoot,
  terminalItemStatuses,
  toMicros,
} from '@pixelmill/core';
import { estimateCostUsd, type ModelSpec } from '@pixelmill/providers';
import { DelayedError, type Job, Worker } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { crashPoint } from '../test-crash.js';
import { admitItem } from './admit.js';
import { BatchSpecCache } from './batch-cache.js';
import { dedupeItem } from './dedupe.js';
import { handleFailure } from './handle-failure.js';
import { itemLeaseFor, keepItemLease, waitForLease } from './item-lease.js';
import { keyPartsOf, unstorableKeys } from './output-key.js';
import { loadReferenceImages } from './reference-images.js';
import { keyResources } from './resources.js';
import { createScheduling, stampingModel } from './scheduling.js';
import { isStorageRefusal, type OutputPlace, storeGenerated, storeSpooled } from './store-image.js';
import { dropSpooledImages, isResumedInCancelledBatch } from './unwanted-spool.js';

/** A limiter lease outlives a crashed worker by at most this long; live calls extend it. */
const LEASE_MS = 60_000;

/**
 * Generates one item: for each missing image, take capacity from the shared limiter, call the model,
 * store the image and record it at once (so a retry never pays for it again), then end the item.
 */
export function createGenerateProcessor(deps: WorkerDeps) {
  const specs = new BatchSpecCache(deps.store);
  // Circuit breaker, fallbacks, deadline and fair share (scheduling.ts).
  const scheduling = createScheduling(deps);

  /**
   * Runs an admitted item: for each missing image, take capacity, call the model, store the image.
   * `onStarted` is called once the item is this runner's (startItem), to keep its lease alive.
   */
  async function runItem(
    job: Job<GenerateJob>,
    token: string | undefined,
    data: GenerateJob,
    lease: ItemLease,
    onStarted: () => void,
  ): Promise<void> {
    const log = deps.logger.child({ batch_id: data.batch_id, item_id: data.item_id });
    const item = await deps.store.getItem(data.item_id);
    // Missing: the batch's acceptance was rolled back. Ended: a duplicate or a cancelled item.
    if (item === null) return;
    if (terminalItemStatuses.includes(item.status)) {
      await dropSpooledImages(deps, data.batch_id, item.custom_id, `item ${item.status}`);
      return;
    }

    const fail = async (error: ItemError) => {
      await endItem(deps, data, { status: 'failed', error, images: 0 });
      log.info({ code: error.code }, 'item failed');
    };

    const model = scheduling.modelOf(data, item);
    const spec = await specs.get(data.batch_id);
    if (model === undefined || spec === null) {
      await fail({
        code: 'config_error',
        message: `Model ${item.model} is not configured`,
        retryable: false,
      });
      return;
    }
    if (await isResumedInCancelledBatch(deps, data, item)) {
      await endItem(deps, data, {
        status: 'cancelled',
        error: null,
        images: item.outputs.length,
        model,
        size: item.size,
      });
      log.info('item of a cancelled batch not resumed; its spooled images were dropped');
      return;
    }
    const late = scheduling.deadlineError(spec);
    if (late !== null) {
      await endItem(deps, data, {
        status: 'failed',
        error: late,
        images: item.outputs.length,
        model,
        size: item.size,
      });
      return;
    }
    // Batch `dedupe`: an identical earlier generation is copied instead of paid for again.
    const dedupe = await dedupeItem(deps, data, item, spec);
    if (dedupe.reused) {
      // No model given: cost 0, no provider; item events and finalize as for any end.
      await endItem(deps, data, { status: 'succeeded', error: null, images: item.n });
      return;
    }
    const resources = keyResources(deps.registry, model);
    const adapter = deps.registry.adapter(model);
    const done = new Set(item.outputs.map((o) => o.index));
    const place: OutputPlace = keyPartsOf(spec, data, item, model.id);
    const unstorable = unstorableKeys(place, item.n);
    if (unstorable !== null) {
      await fail(unstorable);
      return;
    }
    // Images an earlier attempt paid for but did not store (crash, S3 outage) are uploaded, not regenerated.
    const storeDeps = stampingModel(deps, model.id);
    try {
      await storeSpooled(storeDeps, data.item_id, place, done, item.n);
    } catch (err) {
      // S3 refused the object (its key, size or content): only this item fails, at once.
      if (!isStorageRefusal(err)) throw err;
      log.warn({ code: err.code }, err.message);
      await endItem(deps, data, {
        status: 'failed',
        error: err.toJSON(),
        images: done.size,
        model,
        size: item.size,
      });
      return;
    }
    const queue = deps.queues.generate(model.id);
    let started = false;

    for (let index = 0; index < item.n; ) {
      if (done.has(index)) {
        index += 1;
        continue;
      }
      const want = Math.min(scheduling.imagesPerCall(model), item.n - done.size);
      const grant = await scheduling.acquire(
        queue,
        model,
        resources.map((r) => r.id),
        { images: want, leaseMs: LEASE_MS, holder: `${deps.options.workerId}:${job.id}` },
      );
      if (!grant.ok) {
        // Open circuit or no capacity: wait (no attempt spent), move to a fallback model, or fail.
        const next = await scheduling.whenBlocked(model, item, spec, grant);
        if (next.kind === 'fail') {
          await endItem(deps, data, {
            status: 'failed',
            error: next.error,
            images: done.size,
            model,
            size: item.size,
          });
          return;
        }
        if (started)
          await deps.store.requeueItem(data.batch_id, data.item_id, waiting(grant.reason), {
            refund: true,
            runner: lease.runner,
          });
        if (next.kind === 'reroute') {
          await scheduling.reroute(job, data, spec, item, next.to);
          log.info(
            { from: model.id, to: next.to.id, reason: grant.reason },
            'item moved to a fallback model',
          );
          return;
        }
        // Waiting for capacity never spends an attempt: the queue pauses and the job goes back to wait.
        await scheduling.pause(queue, next.ms);
        throw Worker.RateLimitError();
      }
      const resource = resources.find((r) => r.id === grant.resourceId);
      if (resource === undefined) throw new Error(`limiter granted unknown resource ${grant.resourceId}`);
      if (!started) {
        const s = await deps.store.startItem(data.batch_id, data.item_id, lease);
        if (s.state !== 'started') {
          await scheduling.release(grant);
          if (s.state === 'busy') return waitForLease(job, token, s.waitMs);
          return;
        }
        started = true;
        onStarted();
        await scheduling.started(queue, job);
      }
      const heartbeat = setInterval(() => {
        deps.limiter.extend(grant.resourceId, grant.leaseId, LEASE_MS).catch(() => undefined);
      }, LEASE_MS / 3);
      try {
        const references = await loadReferenceImages(item.reference_images, deps.objects, {
          allowPrivate: deps.options.allowPrivateUrls,
          root: tenantRoot(data.tenant_id),
        });
        const call = adapter.generate({
          upstreamModel: model.upstreamId,
          prompt: item.prompt,
          size: item.size,
          aspectRatio: item.aspect_ratio ?? undefined,
          n: want,
          referenceImages: references,
          apiKey: resource.apiKey,
          timeoutMs: model.timeoutMs,
        });
        // The provider counts the request when it arrives, not when we were granted it (the
        // reference images above may have taken seconds): count it from now, after this turn of
        // the event loop has handed the request to the HTTP client (ratelimit sent-2.lua).
        setImmediate(() => {
          deps.limiter.sent(grant.resourceId, grant.leaseId, want).catch(() => undefined);
        });
        const result = await call;
        await deps.limiter.onSuccess(grant.resourceId);
        await scheduling.releaseEarly(grant);
        await scheduling.record(model, { probe: grant.probe });
        // Spooled first, then uploaded and recorded one by one; the loop skips the indexes now done.
        await storeGenerated(
          storeDeps,
          data.item_id,
          place,
          result.images.slice(0, item.n - done.size),
          done,
          item.n,
        );
      } catch (err) {
        await scheduling.record(model, { err, probe: grant.probe });
        const action = await handleFailure(err, {
          limiter: deps.limiter,
          resourceId: grant.resourceId,
          grantedAt: grant.grantedAt,
          attemptsMade: job.attemptsMade,
          maxAttempts: job.opts.attempts ?? deps.options.itemAttempts,
          probe: grant.probe,
        });
        log.warn(
          { code: action.error.code, action: action.kind, attempts_made: job.attemptsMade },
          action.error.message,
        );
        if (action.kind === 'fail') {
          await endItem(deps, data, {
            status: 'failed',
            error: action.error,
            images: done.size,
            model,
            size: item.size,
          });
          return;
        }
        if (action.kind === 'wait') {
          await deps.store.requeueItem(data.batch_id, data.item_id, action.error, {
            refund: true,
            runner: lease.runner,
          });
          await job.moveToDelayed(Date.now() + action.delayMs, token);
          throw new DelayedError();
        }
        await deps.store.requeueItem(data.batch_id, data.item_id, action.error, {
          refund: false,
          runner: lease.runner,
        });
        throw action.error;
      } finally {
        clearInterval(heartbeat);
        await scheduling.release(grant).catch(() => undefined);
      }
    }
    await endItem(deps, data, {
      status: 'succeeded',
      error: null,
      images: done.size,
      model,
      size: item.size,
    });
    await dedupe.remember();
    log.debug({ images: done.size }, 'item succeeded');
  }

  return scheduling.trackRuns(async function generate(job: Job<GenerateJob>, token?: string): Promise<void> {
    const data = generateJobSchema.parse(job.data);
    // Enough jobs of this process already ask the limiter for this model: back to the queue, cheaply.
    if (await scheduling.yieldTurn(job)) throw Worker.RateLimitError();
    const lease = itemLeaseFor(deps, job, token);
    if (!(await admitItem(deps, data, job, token, lease.runner))) return;
    let stopLease = () => {};
    try {
      await runItem(job, token, data, lease, () => {
        stopLease = keepItemLease(deps, data.item_id, lease);
      });
    } finally {
      stopLease();
      // A no-op when the item ended or was requeued; otherwise (an exception) frees it at once.
      await deps.store.releaseItemLease(data.item_id, lease.runner).catch(() => undefined);
    }
  });
}

function waiting(reason: string): ItemError {
  return { code: 'rate_limited', message: `Waiting for provider capacity (${reason})`, retryable: true };
}

export async function endItem(
  deps: WorkerDeps,
  data: GenerateJob,
  result: {
    status: 'succeeded' | 'failed' | 'cancelled';
    error: ItemError | null;
    images: number;
    model?: ModelSpec;
    size?: Size;
  },
): Promise<void> {
  // Cost follows the images actually delivered: the registry's price per image for the item's size.
  const costMicros =
    result.model && result.size && result.images > 0
      ? toMicros(estimateCostUsd(result.model, result.size, result.images))
      : 0;
  const ended = await deps.store.endItem(data.batch_id, data.item_id, {
    status: result.status,
    error: result.error,
    costMicros,
    images: result.images,
    provider: result.model?.provider ?? null,
  });
  // The end and its events are one step: the script recorded it in the outbox, and the relay (any
  // worker's) sends its events and, for the batch's last item, queues the finalize job too.
  if (ended.ended) crashPoint('PIXELMILL_TEST_CRASH_AFTER_END_ITEM');
  if (ended.last) {
    await deps.queues.finalize.add(
      'finalize',
      { batch_id: data.batch_id, tenant_id: data.tenant_id },
      {
        jobId: `finalize-${data.batch_id}`,
        attempts: 10,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
      },
    );
  }
}
