/**
 * @module The review loop's actions on a batch's items (api.md "Review and versions"): approve or
 * reject, regenerate as a new version, choose a version or variant. Each answers 404 for a batch or
 * item of another tenant (or another batch), changes nothing then, and refreshes a completed batch's
 * files so manifest.jsonl and results.csv say what was reviewed and chosen.
 */
import {
  type Batch,
  type BulkReviewRequest,
  type ChooseRequest,
  enqueue,
  enqueueItems,
  type FieldProblem,
  type Item,
  type ItemReview,
  type ItemSpec,
  itemIdFor,
  jobs,
  type RegenerateRequest,
  type ReviewAction,
} from '@pixelmill/core';
import type { AppDeps } from '../deps.js';
import { ApiError, invalidRequest, notFound } from '../errors.js';
import { feedStepDeps } from './feed.js';
import { checkRegeneratedKeys } from './output-keys.js';
import { resolveItem } from './resolve-items.js';
import { trackReopenedBatch } from './tenant-quota.js';

export interface Reviewer {
  tenantId: string;
  /** The API key's public id: recorded as `by`. */
  keyId: string;
}

async function batchOf(deps: AppDeps, tenantId: string, batchId: string): Promise<Batch> {
  const batch = await deps.store.getBatch(tenantId, batchId);
  if (batch === null) throw notFound('Batch');
  return batch;
}

/**
 * The item named in a path, by its id or its custom_id, only when it belongs to this batch (whose
 * tenant the caller already checked): anything else is 404, like another tenant's item.
 */
async function itemOf(deps: AppDeps, batchId: string, ref: string): Promise<Item> {
  const ids = ref.startsWith('item_') ? [ref, itemIdFor(batchId, ref)] : [itemIdFor(batchId, ref)];
  // An item that has not started yet gets its record now, so it can be reviewed like any other.
  await deps.store.materializeItems(batchId, ids);
  for (const id of ids) {
    const item = await deps.store.getItem(id);
    if (item !== null && item.batch_id === batchId) return item;
  }
  throw notFound('Item');
}

/** After a change to what a batch's files say: a completed batch's files are written again. */
async function filesChanged(deps: AppDeps, tenantId: string, batch: Batch): Promise<void> {
  const change = await deps.store.markFilesChanged(batch.id);
  if (batch.completed_at !== null)
    await enqueue(deps.queues, jobs.refreshFiles, { batch_id: batch.id, tenant_id: tenantId, change });
}

const reviewOf = (action: ReviewAction, by: string, note: string | undefined): ItemReview => ({
  status: action === 'approve' ? 'approved' : 'rejected',
  by,
  at: new Date().toISOString(),
  note: note ?? null,
});

/** One item approved or rejected; returns it as it is now. */
export async function reviewOne(
  deps: AppDeps,
  who: Reviewer,
  batchId: string,
  ref: string,
  body: { action: ReviewAction; note?: string | undefined },
): Promise<Item> {
  const batch = await batchOf(deps, who.tenantId, batchId);
  const item = await itemOf(deps, batchId, ref);
  await deps.store.reviewItems(batchId, [item.id], reviewOf(body.action, who.keyId, body.note));
  await filesChanged(deps, who.tenantId, batch);
  return (await deps.store.getItem(item.id)) as Item;
}

/**
 * Many items approved or rejected at once. Every name must be an item of this batch: one that is not
 * makes the request a 400 naming it (`custom_ids[3]`), and nothing is reviewed.
 */
export async function reviewMany(
  deps: AppDeps,
  who: Reviewer,
  batchId: string,
  body: BulkReviewRequest,
): Promise<{ reviewed: number; items: Item[] }> {
  const batch = await batchOf(deps, who.tenantId, batchId);
  const field = body.custom_ids ? 'custom_ids' : 'item_ids';
  const names = body.custom_ids ?? body.item_ids ?? [];
  const ids = names.map((n) => (field === 'custom_ids' ? itemIdFor(batchId, n) : n));
  await deps.store.materializeItems(batchId, ids);
  const items = await deps.store.getItems(ids);
  const problems: FieldProblem[] = [];
  items.forEach((item, i) => {
    if (item.batch_id !== batchId)
      problems.push({ path: `${field}[${i}]`, message: 'No such item in this batch' });
  });
  if (problems.length > 0) throw invalidRequest(problems.slice(0, 100));
  const unique = [...new Set(ids)];
  await deps.store.reviewItems(batchId, unique, reviewOf(body.action, who.keyId, body.note));
  await filesChanged(deps, who.tenantId, batch);
  return { reviewed: unique.length, items: await deps.store.getItems(unique) };
}

/** Fields of a regenerate request that change the item, in the request's order. */
const EDITABLE = ['prompt', 'size', 'aspect_ratio', 'n'] as const;

/**
 * An ended item generated again as a new version (its own provider call and cost, through the normal
 * generation path): edited fields are checked against the item's model as at submission, and every key
 * of the new version must render. The batch re-opens and finalizes again once the item ends. 409
 * while the item is queued or running, or the batch's finalize step is running.
 */
export async function regenerateOne(
  deps: AppDeps,
  who: Reviewer,
  batchId: string,
  ref: string,
  body: RegenerateRequest,
): Promise<Item> {
  const batch = await batchOf(deps, who.tenantId, batchId);
  const item = await itemOf(deps, batchId, ref);
  const found = await deps.store.getBatchInternal(batchId);
  const model = deps.registry.resolve(item.model);
  if (found === null || model === undefined) throw notFound('Item');
  const problems: FieldProblem[] = [];
  const spec = resolveItem(
    {
      header: {
        model: item.model,
        defaults: {
          size: item.size,
          n: item.n,
          ...(item.aspect_ratio ? { aspect_ratio: item.aspect_ratio } : {}),
        },
        output: { key_template: found.batch.output.key_template },
      },
      defaultModel: model,
      registry: deps.registry,
      locateHeader: (f) => f.replace(/^defaults\./, ''),
      models: new Map(),
    },
    {
      custom_id: item.custom_id,
      prompt: body.prompt ?? item.prompt,
      ...(body.size !== undefined ? { size: body.size } : {}),
      ...(body.aspect_ratio !== undefined && body.aspect_ratio !== null
        ? { aspect_ratio: body.aspect_ratio }
        : {}),
      ...(body.n !== undefined ? { n: body.n } : {}),
      reference_images: item.reference_images,
      metadata: item.metadata,
    },
    (f) => f,
    problems,
  );
  if (spec === null) throw invalidRequest(problems);
  const next: ItemSpec = { ...spec, ...(body.aspect_ratio === null ? { aspect_ratio: null } : {}) };
  const keyProblem = checkRegeneratedKeys(found.spec, batchId, item, next.n, item.version + 1);
  if (keyProblem !== null) throw new ApiError(409, 'limit_exceeded', keyProblem);
  if (item.status === 'queued' || item.status === 'running')
    throw new ApiError(
      409,
      'conflict',
      `Item ${item.custom_id} is ${item.status}; regenerate it once it has ended`,
    );
  const state = await deps.store.finalizeState(batchId);
  const finalizing = new ApiError(
    409,
    'conflict',
    'The batch is being finalized right now; retry in a few seconds',
  );
  if (state.claimed && !state.completed) throw finalizing;
  const previous = await deps.queues.finalize.getJob(`finalize-${batchId}`);
  if (previous)
    await previous.remove().catch(() => {
      throw finalizing;
    });
  await deps.store.reopenBatch(batchId);
  await trackReopenedBatch(deps, who.tenantId, batchId);
  const changed = EDITABLE.filter((f) => body[f] !== undefined && body[f] !== item[f]);
  const r = await deps.store.regenerateItem(batchId, item.id, next, {
    reason: 'requested',
    by: who.keyId,
    changed: [...changed],
  });
  if (r.state !== 'queued') {
    // Another request took it first (or it is open again): nothing is queued by this one, so the
    // re-opened batch finalizes again if nothing else is open.
    if (await deps.store.claimFinalize(batchId))
      await enqueue(deps.queues, jobs.finalize, { batch_id: batchId, tenant_id: who.tenantId });
    if (r.state === 'full') throw new ApiError(409, 'limit_exceeded', 'The item has its most versions');
    if (r.state === 'missing') throw notFound('Item');
    throw new ApiError(409, 'conflict', `Item ${item.custom_id} is queued or running`);
  }
  await enqueueItems(feedStepDeps(deps), { id: batchId, tenantId: who.tenantId, priority: batch.priority }, [
    { id: item.id, model: next.model, round: r.round },
  ]);
  return (await deps.store.getItem(item.id)) as Item;
}

/**
 * Marks a version (default: the newest) and optionally one of its variants as the item's chosen
 * output. 400 when the item has no such version or variant; 409 while the item is queued or running.
 */
export async function chooseOne(
  deps: AppDeps,
  who: Reviewer,
  batchId: string,
  ref: string,
  body: ChooseRequest,
): Promise<Item> {
  const batch = await batchOf(deps, who.tenantId, batchId);
  const item = await itemOf(deps, batchId, ref);
  if (item.status === 'queued' || item.status === 'running')
    throw new ApiError(409, 'conflict', `Item ${item.custom_id} is ${item.status}; choose once it has ended`);
  const versionNo = body.version ?? item.version;
  const version = item.versions.find((v) => v.version === versionNo);
  if (version === undefined)
    throw invalidRequest([{ path: 'version', message: `The item has versions 1 to ${item.version}` }]);
  const index = body.index ?? null;
  if (index !== null && !version.outputs.some((o) => o.index === index))
    throw invalidRequest([
      {
        path: 'index',
        message: `Version ${versionNo} has no output ${index} (it has ${version.outputs.length})`,
      },
    ]);
  await deps.store.chooseOutput(item.id, { version: versionNo, index });
  await filesChanged(deps, who.tenantId, batch);
  return (await deps.store.getItem(item.id)) as Item;
}
