/**
 * @module The economy lane: one BullMQ job per provider batch job (a pack of one batch's items on one
 * model). Each run takes one step and, while the provider works, puts itself back with a delay:
 *   1. gate the pack's items (the batch must be visible; cancelled or expired items end here);
 *   2. record the intent (label, key) in Redis BEFORE creating the provider job; a run that finds an
 *      intent without a provider id looks the job up by its label first (a crashed run may have
 *      created it), and submits only when none exists;
 *   3. poll with backoff (WORKER_ECONOMY_POLL_MIN_MS doubling to _MAX_MS), cancelling the provider job
 *      once the pixelmill batch was cancelled;
 *   4. once ended, stream the results and settle every item (results.ts).
 */
import { type EconomyJob, EconomyStore, economyJobSchema, type Item, isProviderError } from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';
import type { BatchImageModel } from '@pixelmill/providers';
import { DelayedError, type Job } from 'bullmq';
import type { WorkerDeps } from '../deps.js';
import { endItem } from '../generate/end-item.js';
import { crashPoint } from '../test-crash.js';
import { autoSwitchInMs } from './auto.js';
import { handToRealtime } from './hand-over.js';
import { linesOf } from './lines.js';
import { loadPackReferences } from './references.js';
import { settleResults } from './results.js';

const DEFAULT_POLL = { pollMinMs: 30_000, pollMaxMs: 600_000 };
/** While the batch is still being ingested, look again this soon. */
const PENDING_MS = 1000;

/** The name a pack's provider job carries (Gemini displayName, OpenAI metadata). */
const economyLabel = (batchId: string, pack: number): string => `pixelmill:${batchId}:${pack}`;

/** Wait before poll number `polls` (1-based): min, doubling, capped. */
export function pollDelayMs(polls: number, opts: { pollMinMs: number; pollMaxMs: number }): number {
  return Math.min(opts.pollMaxMs, opts.pollMinMs * 2 ** Math.max(0, Math.min(30, polls - 1)));
}

async function later(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

/**
 * Deletes an ended job's files at the provider once its results are stored (uploads and results:
 * a 4K job's results are gigabytes the user's provider account would otherwise keep). Best effort:
 * what fails stays until the provider's expiry, with one warning.
 */
async function deleteJobFiles(
  adapter: BatchImageModel,
  apiKey: string,
  ids: string[],
  log: Logger,
): Promise<void> {
  const unique = [...new Set(ids)];
  if (adapter.deleteFiles === undefined || unique.length === 0) return;
  const { deleted, failed } = await adapter.deleteFiles(apiKey, unique);
  if (failed.length > 0) {
    log.warn(
      { deleted, failed: failed.length },
      'provider files of the batch job not deleted; they expire at the provider',
    );
  } else log.debug({ deleted }, 'provider files of the batch job deleted');
}

export function createEconomyProcessor(deps: WorkerDeps) {
  const economy = new EconomyStore(deps.redis, deps.store.keys);
  const poll = deps.options.economy ?? DEFAULT_POLL;

  /** The pack's items that may still be submitted; 'pending' while the batch is invisible. */
  async function runnable(data: EconomyJob): Promise<Item[] | 'pending'> {
    const out: Item[] = [];
    for (const id of data.item_ids) {
      const gate = await deps.store.gateItem(data.batch_id, id);
      if (gate.state === 'pending') return 'pending';
      if (gate.state !== 'go') continue; // ended, missing, or just ended cancelled/expired by the gate
      const item = await deps.store.getItem(id);
      if (item !== null && item.lane === 'economy') out.push(item);
    }
    return out;
  }

  return async function processEconomy(job: Job<EconomyJob>, token?: string): Promise<void> {
    const data = economyJobSchema.parse(job.data);
    const log = deps.logger.child({ batch_id: data.batch_id, pack: data.pack, model: data.model });
    const found = await deps.store.getBatchInternal(data.batch_id);
    if (found === null) return; // rolled back
    const batch = { id: data.batch_id, tenantId: data.tenant_id, spec: found.spec };
    const model = deps.registry.resolve(data.model);
    const adapter = model === undefined ? undefined : deps.registry.batchAdapter(model);
    const keys = model === undefined ? [] : (deps.registry.provider(model.provider)?.apiKeys ?? []);
    let record = await economy.get(data.batch_id, data.pack);
    if (record?.done) return;

    if (model === undefined || adapter === undefined || keys.length === 0) {
      const error = {
        code: 'config_error' as const,
        message: `Model ${data.model} has no economy lane configured`,
        retryable: false,
      };
      for (const item of await deps.store.getItems(data.item_ids)) {
        await endItem(
          deps,
          { batch_id: batch.id, item_id: item.id, tenant_id: batch.tenantId },
          { status: 'failed', error, images: 0 },
        );
      }
      return;
    }

    /** Mode auto: the images the realtime lane would still have to make for the whole batch. */
    const openImages = async (): Promise<number> => {
      const now = await deps.store.getBatchInternal(data.batch_id);
      if (now === null) return 0;
      const { counts, images } = now.batch;
      return Math.ceil(((counts.queued + counts.running) * images.requested) / Math.max(1, counts.total));
    };
    const moveAll = async (items: Item[], why: string) => {
      for (const item of items) await handToRealtime(deps, { ...batch, priority: batch.spec.priority }, item);
      log.info({ items: items.length }, why);
    };

    if (record?.providerId === undefined) {
      const runnableItems = await runnable(data);
      if (runnableItems === 'pending') return later(job, token, PENDING_MS);
      let items = runnableItems;
      const switchIn =
        items.length > 0 ? await autoSwitchInMs(deps, batch.spec, model, await openImages()) : undefined;
      if (switchIn !== undefined && switchIn <= 0) {
        await moveAll(items, 'mode auto: the deadline needs the realtime lane; pack not submitted');
        await economy.finish(data.batch_id, data.pack);
        return;
      }
      const intent = await economy.intend(data.batch_id, data.pack, {
        label: economyLabel(data.batch_id, data.pack),
        keyIndex: 0,
      });
      const apiKey = keys[intent.record.keyIndex] ?? keys[0]!;
      // An intent from an earlier run: that run may have created the job before it stopped.
      let status = intent.fresh ? undefined : await adapter.findByLabel(apiKey, intent.record.label);
      if (status !== undefined) {
        log.info(
          { provider_job: status.id },
          'found the provider batch job an earlier run created; not submitting again',
        );
      } else {
        const references = await loadPackReferences(
          { deps, log, batch: { ...batch, priority: batch.spec.priority }, model },
          items,
        );
        items = items.filter((item) => references.has(item.id));
        const lines = linesOf(model, items, references);
        if (lines.length === 0) {
          await economy.finish(data.batch_id, data.pack);
          return;
        }
        try {
          status = await adapter.submit({
            upstreamModel: model.upstreamId,
            apiKey,
            label: intent.record.label,
            lines,
          });
        } catch (err) {
          const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          if (isProviderError(err) && (!err.retryable || lastTry)) {
            // The batch API will not take this pack: its items go to the realtime lane instead.
            log.warn(
              { code: err.code, err: err.message },
              'provider batch job not created; its items move to realtime',
            );
            for (const item of items)
              await handToRealtime(deps, { ...batch, priority: batch.spec.priority }, item);
            await economy.finish(data.batch_id, data.pack);
            return;
          }
          throw err;
        }
        crashPoint('PIXELMILL_TEST_CRASH_AFTER_ECONOMY_SUBMIT');
        log.info({ provider_job: status.id, lines: lines.length }, 'provider batch job created');
      }
      await economy.submitted(data.batch_id, data.pack, status.id, status.inputFiles);
      // Its items now run in the provider job.
      for (const item of items) await deps.store.startItem(data.batch_id, item.id);
      record = await economy.get(data.batch_id, data.pack);
      if (record?.providerId === undefined) throw new Error('economy record lost its provider id');
      return later(job, token, pollDelayMs(1, poll));
    }

    const apiKey = keys[record.keyIndex] ?? keys[0]!;
    const providerId = record.providerId;
    if (!record.cancelled && (await deps.store.cancelRequested(data.batch_id))) {
      await adapter.cancel(apiKey, providerId).catch((err: unknown) => {
        // Already ended: nothing to cancel, its results are stored below.
        log.info({ err: (err as Error).message }, 'provider batch job not cancelled (it may have ended)');
      });
      await economy.markCancelled(data.batch_id, data.pack);
      record = { ...record, cancelled: true };
      log.info({ provider_job: providerId }, 'cancelled the provider batch job of a cancelled batch');
    }
    const switchIn = record.cancelled
      ? undefined
      : await autoSwitchInMs(deps, batch.spec, model, await openImages());
    if (switchIn !== undefined && switchIn <= 0) {
      // Everything of the pack not back yet moves to realtime now; the job is cancelled, and what it
      // still returns is dropped (the realtime lane owns those items: first result wins).
      await adapter.cancel(apiKey, providerId).catch((err: unknown) => {
        log.info({ err: (err as Error).message }, 'provider batch job not cancelled (it may have ended)');
      });
      await economy.markCancelled(data.batch_id, data.pack);
      record = { ...record, cancelled: true };
      const open = (await deps.store.getItems(data.item_ids)).filter(
        (i) => (i.status === 'queued' || i.status === 'running') && i.lane === 'economy',
      );
      await moveAll(
        open,
        'mode auto: the deadline needs the realtime lane; items moved, provider job cancelled',
      );
    }
    const status = await adapter.get(apiKey, providerId);
    if (status.state === 'pending' || status.state === 'running') {
      const polls = await economy.polled(data.batch_id, data.pack);
      crashPoint('PIXELMILL_TEST_CRASH_IN_ECONOMY_POLL');
      // Mode auto: never sleep past the switch-over time.
      const wait = pollDelayMs(polls + 1, poll);
      return later(job, token, switchIn !== undefined && switchIn > 0 ? Math.min(wait, switchIn + 50) : wait);
    }
    await settleResults(
      { deps, economy, log, batch, model, adapter, apiKey, itemIds: new Set(data.item_ids) },
      status,
      record.cancelled,
    );
    await economy.finish(data.batch_id, data.pack);
    await deleteJobFiles(
      adapter,
      apiKey,
      [...record.uploads, ...status.inputFiles, ...status.resultFiles],
      log,
    );
  };
}
