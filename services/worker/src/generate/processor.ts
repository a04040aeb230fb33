import {
  BatchSpecCache,
  type GenerateJob,
  generateJobSchema,
  type ItemLease,
  isKeyRefusal,
  newestOutputs,
  tenantRoot,
  terminalItemStatuses,
} from '@pixelmill/core';
import { type Job, Worker } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { admitItem } from './admit.js';
import type { Acquired } from './capacity.js';
import { dedupeItem } from './dedupe.js';
import { handleFailure } from './handle-failure.js';
import { itemLeaseFor, keepItemLease } from './item-lease.js';
import type { Outcome } from './outcome.js';
import { keyPartsOf, unstorableKeys } from './output-key.js';
import { loadReferenceImages } from './reference-images.js';
import { regenerateFlagged } from './regenerate-flagged.js';
import { type KeyResource, keyResources } from './resources.js';
import { toProviderError } from './retry-policy.js';
import { createScheduling, stampingModel } from './scheduling.js';
import { type Run, settle } from './settle.js';
import { isStorageRefusal, type OutputPlace, storeGenerated, storeSpooled } from './store-image.js';
import { dropSpooledImages, isResumedInCancelledBatch } from './unwanted-spool.js';

/** A limiter lease outlives a crashed worker by at most this long; live calls extend it. */
const LEASE_MS = 60_000;

/** Everything a run needs once its item is known to be runnable on its model. */
export interface Ready {
  place: OutputPlace;
  resources: KeyResource[];
  storeDeps: ReturnType<typeof stampingModel<WorkerDeps>>;
}

/**
 * Generates one item: for each missing image, take capacity from the shared limiter, call the model,
 * store the image and record it at once (so a retry never pays for it again), then end the item.
 * Each step returns an Outcome, or null to go on; settle.ts alone acts on an outcome.
 */
export function createGenerateProcessor(deps: WorkerDeps) {
  const specs = new BatchSpecCache(deps.store);
  // Circuit breaker, key rotation, capacity, fallbacks and deadline (scheduling.ts).
  const scheduling = createScheduling(deps);

  /** The item, its batch and its model: whether and where it can run at all. */
  async function prepare(run: Run): Promise<Outcome | Ready> {
    const { data } = run;
    const item = await deps.store.getItem(data.item_id);
    // Missing: the batch's acceptance was rolled back. Ended: a duplicate or a cancelled item.
    if (item === null) return { kind: 'drop' };
    if (terminalItemStatuses.includes(item.status)) {
      await dropSpooledImages(deps, data.batch_id, item.custom_id, `item ${item.status}`);
      return { kind: 'drop' };
    }
    run.item = item;
    // The newest version's outputs: the one being generated (a chosen older one is not).
    for (const o of newestOutputs(item)) run.stored.add(o.index);
    const model = scheduling.modelOf(data, item);
    const spec = await specs.get(data.batch_id);
    if (model === undefined || spec === null) {
      const message = `Model ${item.model} is not configured`;
      return { kind: 'fail', unpriced: true, error: { code: 'config_error', message, retryable: false } };
    }
    run.spec = spec;
    if (await isResumedInCancelledBatch(deps, data, item)) {
      run.model = model;
      return { kind: 'cancel' };
    }
    // Past the deadline: `timeout`, or `config_error` when every key of the provider was refused.
    const late = await scheduling.lateError(spec, model);
    if (late !== null) {
      run.model = model;
      return { kind: 'fail', error: late };
    }
    // Batch `dedupe`: an identical earlier generation is copied instead of paid for again.
    const dedupe = await dedupeItem(deps, data, item, spec);
    if (dedupe.reused) return { kind: 'done', reused: true };
    run.remember = dedupe.remember;
    const place: OutputPlace = keyPartsOf(spec, data, item, model.id);
    const unstorable = unstorableKeys(place, item.n);
    if (unstorable !== null) return { kind: 'fail', unpriced: true, error: unstorable };
    run.model = model;
    run.queue = deps.queues.generate(model.id);
    return { place, resources: keyResources(deps.registry, model), storeDeps: stampingModel(deps, model.id) };
  }

  /** Images an earlier attempt paid for but did not store (crash, S3 outage) are uploaded, not regenerated. */
  async function uploadSpooled(run: Run, ready: Ready): Promise<Outcome | null> {
    try {
      await storeSpooled(ready.storeDeps, run.data.item_id, ready.place, run.stored, run.item!.n);
      return null;
    } catch (err) {
      // S3 refused the object (its key, size or content): only this item fails, at once.
      if (!isStorageRefusal(err)) throw err;
      run.log.warn({ code: err.code }, err.message);
      return { kind: 'fail', error: err.toJSON() };
    }
  }

  /** A slot on one of the model's keys, or what to do without one (wait, reroute, fail). */
  async function takeCapacity(run: Run, ready: Ready, want: number): Promise<Outcome | Acquired> {
    const model = run.model!;
    const grant = await scheduling.acquireKey(run.queue!, model, ready.resources, {
      images: want,
      leaseMs: LEASE_MS,
      holder: `${deps.options.workerId}:${run.job.id}`,
    });
    if (grant.ok) return grant;
    // Open circuit, no key left, or no capacity: wait (no attempt spent), move to a fallback, or fail.
    const next = await scheduling.whenBlocked(model, run.item!, run.spec!, grant);
    if (next.kind === 'fail') return next;
    if (next.kind === 'reroute') return { kind: 'reroute', to: next.to, reason: grant.reason };
    const error = {
      code: 'rate_limited' as const,
      message: `Waiting for provider capacity (${grant.reason})`,
      retryable: true,
    };
    return { kind: 'wait', ms: next.ms, refundAttempt: run.started, error, via: 'queue' };
  }

  /** The first slot makes the item this run's (startItem); another live runner may hold it. */
  async function start(
    run: Run,
    ready: Ready,
    grant: Acquired,
    want: number,
    onStarted: () => void,
  ): Promise<Outcome | null> {
    if (run.started) return null;
    const s = await deps.store.startItem(run.data.batch_id, run.data.item_id, run.lease);
    if (s.state !== 'started') {
      const resource = ready.resources.find((r) => r.id === grant.resourceId);
      if (resource !== undefined) scheduling.keys.unclaim(run.model!, resource);
      await scheduling.withdraw(grant, want);
      return s.state === 'busy' ? { kind: 'busy', waitMs: s.waitMs } : { kind: 'drop' };
    }
    run.started = true;
    onStarted();
    await scheduling.started(run.queue!, run.job);
    return null;
  }

  /** One provider call on the granted key, and the upload of what it returned. */
  async function generateOnce(
    run: Run,
    ready: Ready,
    grant: Acquired,
    want: number,
  ): Promise<Outcome | null> {
    const model = run.model!;
    const item = run.item!;
    const resource = ready.resources.find((r) => r.id === grant.resourceId);
    if (resource === undefined) throw new Error(`limiter granted unknown resource ${grant.resourceId}`);
    let refused = false;
    // Until the request is handed to the HTTP client, the grant can go back unsent (withdraw).
    let handedOver = false;
    const heartbeat = setInterval(() => {
      deps.limiter.extend(grant.resourceId, grant.leaseId, LEASE_MS).catch(() => undefined);
    }, LEASE_MS / 3);
    try {
      const references = await loadReferenceImages(item.reference_images, deps.objects, {
        allowPrivate: deps.options.allowPrivateUrls,
        root: tenantRoot(run.data.tenant_id),
      });
      const call = deps.registry.adapter(model).generate({
        upstreamModel: model.upstreamId,
        prompt: item.prompt,
        size: item.size,
        aspectRatio: item.aspect_ratio ?? undefined,
        n: want,
        referenceImages: references,
        apiKey: resource.apiKey,
        timeoutMs: model.timeoutMs,
      });
      handedOver = true;
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
        ready.storeDeps,
        run.data.item_id,
        ready.place,
        result.images.slice(0, item.n - run.stored.size),
        run.stored,
        item.n,
      );
      return null;
    } catch (err) {
      refused = isKeyRefusal(toProviderError(err));
      await scheduling.record(model, { err, probe: grant.probe });
      const outcome = await handleFailure(err, {
        limiter: deps.limiter,
        resourceId: grant.resourceId,
        grantedAt: grant.grantedAt,
        attemptsMade: run.job.attemptsMade,
        maxAttempts: run.job.opts.attempts ?? deps.options.itemAttempts,
        probe: grant.probe,
        revokeKey: (reason) => scheduling.keys.revoke(model, resource, reason),
      });
      run.log.warn(
        { code: outcome.error.code, action: outcome.kind, attempts_made: run.job.attemptsMade },
        outcome.error.message,
      );
      return outcome;
    } finally {
      scheduling.keys.answered(model, resource, refused);
      clearInterval(heartbeat);
      const giveBack = handedOver ? scheduling.release(grant) : scheduling.withdraw(grant, want);
      await giveBack.catch(() => undefined);
    }
  }

  /** The steps of one run, in order; the first outcome ends it. */
  async function runItem(run: Run, onStarted: () => void): Promise<Outcome> {
    const ready = await prepare(run);
    if ('kind' in ready) return ready;
    const spooled = await uploadSpooled(run, ready);
    if (spooled !== null) return spooled;
    const n = run.item!.n;
    // Batch `qa.on_flag: regenerate`: flagged outputs start a new version, generated like the first.
    do {
      while (run.stored.size < n) {
        const want = Math.min(scheduling.imagesPerCall(run.model!), n - run.stored.size);
        const grant = await takeCapacity(run, ready, want);
        if ('kind' in grant) return grant;
        const started = await start(run, ready, grant, want, onStarted);
        if (started !== null) return started;
        const generated = await generateOnce(run, ready, grant, want);
        if (generated !== null) return generated;
      }
    } while (await regenerateFlagged(deps, run, ready));
    return { kind: 'done' };
  }

  return scheduling.trackRuns(async function generate(job: Job<GenerateJob>, token?: string): Promise<void> {
    const data = generateJobSchema.parse(job.data);
    // Enough jobs of this process already ask the limiter for this model: back to the queue, cheaply.
    if (await scheduling.yieldTurn(job)) throw Worker.RateLimitError();
    const lease: ItemLease = itemLeaseFor(deps, job, token);
    if (!(await admitItem(deps, data, job, token, lease.runner))) return;
    const log = deps.logger.child({ batch_id: data.batch_id, item_id: data.item_id });
    const run: Run = { job, token, data, lease, log, stored: new Set(), started: false };
    let stopLease = () => {};
    try {
      const outcome = await runItem(run, () => {
        stopLease = keepItemLease(deps, data.item_id, lease);
      });
      await settle(deps, scheduling, run, outcome);
    } finally {
      stopLease();
      // A no-op when the item ended or was requeued; otherwise (an exception) frees it at once.
      await deps.store.releaseItemLease(data.item_id, lease.runner).catch(() => undefined);
    }
  });
}
