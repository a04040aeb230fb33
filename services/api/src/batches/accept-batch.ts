import {
  type Batch,
  type CreateBatchRequest,
  type FieldProblem,
  generateJobOptions,
  type ItemSpec,
  itemIdFor,
  type NewItem,
  newBatchId,
  toMicros,
} from '@pixelmill/core';
import { estimateCostUsd } from '@pixelmill/providers';
import { assertPublicUrl, generateWebhookSecret } from '@pixelmill/webhooks';
import type { Queue } from 'bullmq';
import type { AppDeps } from '../deps.js';
import { ApiError, invalidRequest } from '../errors.js';
import { resolveItem } from './resolve-items.js';

/** addBulk chunk size: BullMQ's addBulk latency grows past ~1,000 jobs per call (bullmq#1670). */
const CHUNK = 1000;

const priorityRank = { high: 1, normal: 2, low: 3 } as const;

export interface AcceptedBatch {
  batch: Batch;
  /** Returned once, in the 201, when the server made the webhook secret. */
  generatedSecret?: string;
}

/**
 * Accepts a whole batch or nothing: everything is validated before the first write, the batch stays
 * invisible while its items and jobs are written, and any failure removes what was written.
 */
export async function acceptBatch(
  deps: AppDeps,
  tenantId: string,
  body: CreateBatchRequest,
): Promise<AcceptedBatch> {
  const model = deps.registry.resolve(body.model);
  if (model === undefined) {
    throw new ApiError(400, 'unknown_model', `Unknown model "${body.model}"; see GET /v1/models`, [
      { path: 'model', message: 'Unknown model' },
    ]);
  }
  if (!deps.registry.available(model)) {
    throw new ApiError(
      400,
      'model_unavailable',
      `Model ${model.id} has no API key configured for its provider`,
      [{ path: 'model', message: `Provider ${model.provider} has no API key` }],
    );
  }
  if (body.items.length > deps.options.maxItemsPerBatch) {
    throw new ApiError(
      413,
      'payload_too_large',
      `A batch holds at most ${deps.options.maxItemsPerBatch} items`,
    );
  }

  const problems: FieldProblem[] = [];
  const specs: ItemSpec[] = body.items.map((item, i) => resolveItem(model, body.defaults, item, i, problems));
  if (body.webhook) {
    try {
      await assertPublicUrl(body.webhook.url, { allowPrivate: deps.options.allowPrivateWebhooks });
    } catch (err) {
      problems.push({ path: 'webhook.url', message: (err as Error).message });
    }
  }
  // A bad default is one problem however many items take it: name it once.
  if (problems.length > 0) throw invalidRequest(uniqueProblems(problems));

  const id = newBatchId();
  const generatedSecret = body.webhook && !body.webhook.secret ? generateWebhookSecret() : undefined;
  const webhook = body.webhook
    ? {
        url: body.webhook.url,
        events: body.webhook.events ?? ['batch.completed' as const],
        item_events: body.webhook.item_events ?? ('grouped' as const),
        secret: body.webhook.secret ?? (generatedSecret as string),
      }
    : null;
  const estimatedMicros = specs.reduce((sum, s) => sum + toMicros(estimateCostUsd(model, s.size, s.n)), 0);
  const spec = {
    model: model.id,
    created_at: new Date().toISOString(),
    webhook,
    output: { prefix: body.output?.prefix ?? '', format: body.output?.format ?? 'png' },
    priority: body.priority ?? 'normal',
    metadata: body.metadata ?? {},
    estimated_micros: estimatedMicros,
    images_requested: specs.reduce((sum, s) => sum + s.n, 0),
  };

  const queue = deps.queues.generate(model.id);
  const enqueued: string[] = [];
  try {
    await deps.store.insertBatch({ id, tenantId, spec, total: specs.length });
    for (let i = 0; i < specs.length; i += CHUNK) {
      const chunk: NewItem[] = specs
        .slice(i, i + CHUNK)
        .map((s) => ({ id: itemIdFor(id, s.custom_id), spec: s }));
      await deps.store.insertItems(id, tenantId, chunk);
      // Recorded before the call: an addBulk that fails (e.g. its reply is lost) may still have written
      // its jobs, and the rollback must remove them too (removing a job that does not exist is a no-op).
      enqueued.push(...chunk.map((c) => c.id));
      await queue.addBulk(
        chunk.map((item) => ({
          name: 'generate',
          data: { batch_id: id, item_id: item.id, tenant_id: tenantId },
          opts: {
            ...generateJobOptions,
            jobId: item.id,
            attempts: deps.options.itemAttempts,
            priority: priorityRank[spec.priority],
          },
        })),
      );
    }
    await deps.store.publishBatch(id, tenantId);
  } catch (err) {
    deps.logger.error({ err, batch_id: id }, 'batch acceptance failed; rolling back');
    await rollback(deps, id, tenantId, queue, enqueued);
    throw new ApiError(
      503,
      'service_unavailable',
      'Could not store the batch; nothing was accepted. Retry later.',
    );
  }

  const batch = await deps.store.getBatch(tenantId, id);
  if (batch === null) throw new ApiError(500, 'internal_error', 'Batch vanished after acceptance');
  return generatedSecret === undefined ? { batch } : { batch, generatedSecret };
}

async function rollback(
  deps: AppDeps,
  batchId: string,
  tenantId: string,
  queue: Queue,
  jobIds: string[],
): Promise<void> {
  try {
    // A job a worker already holds cannot be removed; that worker finds no item record and drops it.
    await Promise.all(jobIds.map((jobId) => queue.remove(jobId).catch(() => 0)));
    await deps.store.discardBatch(batchId, tenantId);
  } catch (err) {
    deps.logger.error({ err, batch_id: batchId }, 'rollback incomplete');
  }
}

function uniqueProblems(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
