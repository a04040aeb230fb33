import {
  type Batch,
  type BatchHeader,
  type BatchItemInput,
  type BatchSpec,
  type CreateBatchRequest,
  DEFAULT_KEY_TEMPLATE,
  type EconomyJob,
  economyJobId,
  enqueue,
  type FieldProblem,
  feedBatch,
  feedBatchOf,
  feedModelsOf,
  type ItemSpec,
  itemIdFor,
  jobFor,
  jobs,
  newBatchId,
  qaPolicyOf,
  subscribedEvents,
  tenantRoot,
  toMicros,
} from '@pixelmill/core';
import { assertPublicUrl } from '@pixelmill/net-guard';
import { estimateCostUsd, type ModelSpec } from '@pixelmill/providers';
import { generateWebhookSecret } from '@pixelmill/webhooks';
import type { AppDeps } from '../deps.js';
import { ApiError, invalidRequest } from '../errors.js';
import { ReferenceChecks } from './check-references.js';
import { feedStepDeps } from './feed.js';
import { type BatchKeyParts, headerKeyProblems, itemKeyProblems } from './output-keys.js';
import { type Locate, type ResolveContext, resolveItem } from './resolve-items.js';
import { releaseTenantQuota, reserveTenantQuota } from './tenant-quota.js';

/** Items per provider batch job unless PIXELMILL_ECONOMY_JOB_SIZE says otherwise. */
const DEFAULT_ECONOMY_JOB_SIZE = 25;

/** An economy item as packing sees it. */
interface PackedItem {
  id: string;
  model: string;
  /** Items with reference images go to packs of their own (OpenAI runs them on another endpoint). */
  withReferences: boolean;
}

/** The items of each pack group (model, with or without references), in submission order. */
function packGroups(items: PackedItem[]): Map<string, { model: string; ids: string[] }> {
  const groups = new Map<string, { model: string; ids: string[] }>();
  for (const item of items) {
    const key = `${item.model}\u0000${item.withReferences ? 'references' : ''}`;
    const group = groups.get(key) ?? { model: item.model, ids: [] };
    group.ids.push(item.id);
    groups.set(key, group);
  }
  return groups;
}

/**
 * Economy items go to provider batch jobs instead of the model queues: packed per model (items with
 * reference images apart), in order, `size` items a pack; one economy job per pack, numbered from
 * `firstPack`. Returns the packs added.
 */
async function enqueueEconomy(
  deps: AppDeps,
  batch: { id: string; tenantId: string },
  items: PackedItem[],
  firstPack: number,
): Promise<number> {
  const size = deps.options.economyJobSize ?? DEFAULT_ECONOMY_JOB_SIZE;
  const packs: ReturnType<typeof jobFor<typeof jobs.economy.schema>>[] = [];
  let pack = firstPack;
  for (const { model, ids } of packGroups(items).values()) {
    for (let i = 0; i < ids.length; i += size) {
      const data: EconomyJob = {
        batch_id: batch.id,
        tenant_id: batch.tenantId,
        model,
        pack,
        item_ids: ids.slice(i, i + size),
      };
      packs.push(jobFor(jobs.economy, data));
      pack++;
    }
  }
  if (packs.length > 0) await deps.queues.economy.addBulk(packs);
  return pack - firstPack;
}

/** Packs enqueueEconomy makes of these items. */
function packCount(items: PackedItem[], size: number): number {
  return [...packGroups(items).values()].reduce((sum, g) => sum + Math.ceil(g.ids.length / size), 0);
}

/** addBulk chunk size: BullMQ's addBulk latency grows past ~1,000 jobs per call (bullmq#1670). */
const CHUNK = 1000;
/**
 * Jobs of each model queued first after publishing, before the rest of PIXELMILL_FEED_HIGH_WATER: a
 * feed's jobs appear together (one transaction), so workers start on these while the rest is written.
 */
const FIRST_FEED = 50;
/** Chunks being written while the next is read (see startFlush). */
const WRITES_IN_FLIGHT = 2;
/** Chunks of job notes read per call when the jobs are created (enqueueAll). */
const READ_AHEAD = 10;
/** Problems reported in one 400 at most; past that a streamed body is not read any further. */
const MAX_PROBLEMS = 100;

export interface AcceptedBatch {
  batch: Batch;
  /** Returned once, in the 201, when the server made the webhook secret. */
  generatedSecret?: string;
}

interface PendingItem {
  spec: ItemSpec;
  where: string;
}

/**
 * Accepts a batch whose items arrive one at a time (a JSON array, NDJSON lines, CSV rows): each item is
 * validated as it comes, valid items are written a chunk at a time (the next chunk is validated while
 * the previous one is written), and memory stays flat whatever the size. Jobs are created only once the
 * whole upload is valid (`finish()`), so a refused upload removes its items and nothing else. Acceptance
 * is whole or nothing: the batch stays invisible until `finish()` publishes it, and its workers do not
 * start its items before that (gateItem-3.lua).
 */
export class BatchAcceptance {
  private readonly problems: FieldProblem[] = [];
  private readonly problemKeys = new Set<string>();
  private pending: PendingItem[] = [];
  /** Chunk writes under way, oldest first (at most WRITES_IN_FLIGHT). */
  private readonly writes: Promise<void>[] = [];
  private writeError: unknown;
  private count = 0;
  private imagesRequested = 0;
  private estimatedMicros = 0;
  private readonly modelsUsed = new Set<string>();
  /** Economy packs enqueued so far (their jobs are economyJobId(id, 0..packs-1)). */
  private packs = 0;
  /** True once enqueueAll began creating jobs (a rollback must then remove them). */
  private enqueueStarted = false;
  private closed = false;
  /** reference_images URLs (SSRF guard, one lookup per host) and keys (tenant's root). */
  private readonly references: ReferenceChecks;

  private constructor(
    readonly id: string,
    private readonly deps: AppDeps,
    readonly tenantId: string,
    private readonly ctx: ResolveContext,
    private readonly spec: BatchSpec,
    /** Every output key is rendered at acceptance as the worker will write it (output-keys.ts). */
    private readonly keys: BatchKeyParts,
    readonly generatedSecret: string | undefined,
    /** Where the first item would be (names "a batch needs at least one item"). */
    private readonly itemsName: string,
  ) {
    this.references = new ReferenceChecks({
      tenantId,
      allowPrivate: deps.options.allowPrivateWebhooks,
      lookup: deps.options.lookup,
      report: (problems) => this.report(problems),
      maxProblems: MAX_PROBLEMS,
    });
  }

  /**
   * Checks the batch's header (model, webhook URL) and writes the invisible batch record. Throws the
   * 400 (unknown_model, invalid_request) before anything is written.
   */
  static async begin(
    deps: AppDeps,
    tenantId: string,
    header: BatchHeader,
    names: { locateHeader: Locate; items: string; count?: number },
  ): Promise<BatchAcceptance> {
    const model = deps.registry.resolve(header.model);
    if (model === undefined) {
      throw new ApiError(400, 'unknown_model', `Unknown model "${header.model}"; see GET /v1/models`, [
        { path: names.locateHeader('model'), message: 'Unknown model' },
      ]);
    }
    const mode = header.mode ?? 'realtime';
    if (mode === 'economy' && !model.economy) {
      throw invalidRequest([
        {
          path: names.locateHeader('mode'),
          message: `${model.id} has no economy lane (its provider has no batch API for images); see GET /v1/models`,
        },
      ]);
    }
    if (!deps.registry.available(model)) {
      throw new ApiError(
        400,
        'model_unavailable',
        `Model ${model.id} has no API key configured for its provider`,
        [{ path: names.locateHeader('model'), message: `Provider ${model.provider} has no API key` }],
      );
    }
    if (header.webhook) {
      try {
        await assertPublicUrl(header.webhook.url, {
          allowPrivate: deps.options.allowPrivateWebhooks,
          lookup: deps.options.lookup,
        });
      } catch (err) {
        throw invalidRequest([{ path: names.locateHeader('webhook.url'), message: (err as Error).message }]);
      }
    }
    const generatedSecret = header.webhook && !header.webhook.secret ? generateWebhookSecret() : undefined;
    const spec: BatchSpec = {
      model: model.id,
      created_at: new Date().toISOString(),
      webhook: header.webhook
        ? {
            url: header.webhook.url,
            events: subscribedEvents(
              header.webhook.events ?? ['batch.completed'],
              header.webhook.item_events,
            ),
            ...(header.webhook.rate_limit === undefined ? {} : { rate_limit: header.webhook.rate_limit }),
            secret: header.webhook.secret ?? (generatedSecret as string),
          }
        : null,
      output: {
        prefix: header.output?.prefix ?? '',
        format: header.output?.format ?? 'png',
        key_template: header.output?.key_template ?? DEFAULT_KEY_TEMPLATE,
        root: tenantRoot(tenantId),
      },
      priority: header.priority ?? 'normal',
      mode,
      metadata: header.metadata ?? {},
      estimated_micros: 0,
      images_requested: 0,
      expires_at: header.expires_at ?? null,
      dedupe: header.dedupe ?? false,
      models: [model.id],
      qa: qaPolicyOf(header.qa),
    };
    const ctx: ResolveContext = {
      header,
      defaultModel: model,
      registry: deps.registry,
      locateHeader: names.locateHeader,
      models: new Map([[header.model, model]]),
    };
    const id = newBatchId();
    const keys: BatchKeyParts = {
      root: tenantRoot(tenantId),
      prefix: spec.output.prefix,
      batchId: id,
      format: spec.output.format,
      keyTemplate: spec.output.key_template,
    };
    const keyProblems = headerKeyProblems(keys, names.locateHeader, model.id);
    if (keyProblems.length > 0) throw invalidRequest(keyProblems);
    const acceptance = new BatchAcceptance(id, deps, tenantId, ctx, spec, keys, generatedSecret, names.items);
    await deps.store.insertBatch({ id: acceptance.id, tenantId, spec });
    // Tenant quotas, before any item is written or queued (a streamed batch's count is checked at finish).
    await reserveTenantQuota(deps, tenantId, acceptance.id, names.count ?? 0).catch(async (err) => {
      await acceptance.rollback();
      throw err;
    });
    return acceptance;
  }

  /** True once enough problems were found that reading further is pointless. */
  get full(): boolean {
    return this.problems.length >= MAX_PROBLEMS;
  }

  get itemCount(): number {
    return this.count;
  }

  /** Adds problems found outside item resolution (a row that did not parse, a schema error). */
  report(problems: FieldProblem[]): void {
    for (const p of problems) {
      if (this.problems.length >= MAX_PROBLEMS) return;
      const key = `${p.path}\0${p.message}`;
      // A bad default is one problem however many items take it: name it once.
      if (this.problemKeys.has(key)) continue;
      this.problemKeys.add(key);
      this.problems.push(p);
    }
  }

  /** Counts an item against PIXELMILL_MAX_ITEMS_PER_BATCH, while streaming: 413 on the first one too many. */
  private countItem(locate: Locate): void {
    this.count += 1;
    const max = this.deps.options.maxItemsPerBatch;
    if (this.count > max) {
      throw new ApiError(
        413,
        'payload_too_large',
        `A batch holds at most ${max} items (PIXELMILL_MAX_ITEMS_PER_BATCH)`,
        [
          {
            path: locate('').replace(/[.:\s]+$/, ''),
            message: `Item ${this.count} is past the limit of ${max} items`,
          },
        ],
      );
    }
  }

  /** An item that did not even parse (bad JSON, schema): counted, its problems reported, nothing written. */
  reject(locate: Locate, problems: FieldProblem[]): void {
    this.countItem(locate);
    this.report(problems);
  }

  /** Validates one item and queues it for writing; writes a chunk once CHUNK items are waiting. */
  async add(input: BatchItemInput, locate: Locate): Promise<void> {
    this.countItem(locate);
    const found: FieldProblem[] = [];
    const spec = resolveItem(this.ctx, input, locate, found);
    if (spec !== null) found.push(...itemKeyProblems(this.keys, spec, locate));
    const model = this.ctx.models.get(input.model ?? this.ctx.header.model);
    // Mode auto starts in economy where the model has a lane, else realtime.
    const economy =
      this.spec.mode === 'economy' ||
      (this.spec.mode === 'auto' && (model as ModelSpec | undefined)?.economy === true);
    if (this.spec.mode === 'economy' && spec !== null) {
      found.push(...economyProblems(model as ModelSpec, locate));
    }
    this.report(found);
    this.references.check(input.reference_images, locate);
    if (spec === null || found.length > 0) return;
    if (economy) spec.lane = 'economy';
    this.imagesRequested += spec.n;
    // The estimate is at the lane's price: economy items cost the batch price (providers.md §6).
    const lane = economy ? 'economy' : 'realtime';
    this.estimatedMicros += toMicros(estimateCostUsd(model as ModelSpec, spec.size, spec.n, lane));
    this.modelsUsed.add(spec.model);
    this.pending.push({ spec, where: locate('custom_id') });
    if (this.pending.length >= CHUNK) await this.startFlush();
  }

  /**
   * Starts writing the waiting chunk, after the oldest write when WRITES_IN_FLIGHT are under way: the
   * next chunks are parsed and validated while earlier ones are written, so neither the API nor Redis
   * waits for the other. Chunks reach Redis in order (one connection), so the item list keeps the
   * submission order and duplicates are found against every earlier chunk.
   */
  private async startFlush(): Promise<void> {
    while (this.writes.length >= WRITES_IN_FLIGHT) await this.writes.shift();
    const chunk = this.pending;
    this.pending = [];
    this.writes.push(
      this.flush(chunk).catch((err: unknown) => {
        this.writeError ??= err;
      }),
    );
  }

  private async settled(): Promise<void> {
    while (this.writes.length > 0) await this.writes.shift();
  }

  private async flush(chunk: PendingItem[]): Promise<void> {
    if (chunk.length === 0 || this.writeError !== undefined) return;
    const items = chunk.map((c) => ({
      id: itemIdFor(this.id, c.spec.custom_id),
      spec: c.spec,
      where: c.where,
    }));
    // Duplicate custom_ids across the whole stream, without holding every id in memory: a Redis hash of
    // custom_id → where it was first seen, for this ingest only (deleted when it ends). The same script
    // writes the chunk's items, so a chunk costs one round trip. Once anything is wrong nothing more is
    // written: the batch is refused and rolled back. The chunk's jobs are only noted (sent behind the
    // script on the same connection): economy packs are created once the whole upload is valid
    // (enqueueAll); realtime items get their jobs from the feeder as their model's queue has room.
    const economy = items.filter((i) => i.spec.lane === 'economy');
    const [dups] = await Promise.all([
      this.deps.store.insertChunk(this.id, this.tenantId, items, this.problems.length === 0),
      this.problems.length === 0
        ? this.deps.store.noteIngestJobs(
            this.id,
            economy.map((i) => ({
              lane: 'economy' as const,
              model: i.spec.model,
              itemId: i.id,
              withReferences: i.spec.reference_images.length > 0,
            })),
          )
        : undefined,
    ]);
    this.report(
      dups.map((d) => ({
        path: chunk[d.index]?.where ?? '(body)',
        message: `Duplicate custom_id (also used by ${d.firstSeen})`,
      })),
    );
  }

  /**
   * Creates the economy lane's provider batch jobs of a whole, valid upload, a window of noted items at
   * a time (two windows in flight). The items stay gated (`pending`) until publishBatch.
   */
  private async enqueueAll(): Promise<void> {
    this.enqueueStarted = true;
    const batch = { id: this.id, tenantId: this.tenantId, priority: this.spec.priority };
    const inFlight: Promise<void>[] = [];
    let failure: { err: unknown } | undefined;
    // Read READ_AHEAD chunks of notes per call: a read queues behind the writes on the connection, so
    // reading one chunk at a time would make the API wait for Redis before building each chunk's jobs.
    for await (const notes of this.deps.store.ingestJobs(this.id, CHUNK * READ_AHEAD))
      for (let at = 0; at < notes.length; at += CHUNK) {
        if (failure !== undefined) break;
        const economy = notes
          .slice(at, at + CHUNK)
          .map((j) => ({ id: j.itemId, model: j.model, withReferences: j.withReferences }));
        const first = this.packs;
        // Counted before the write: a failed addBulk may still have written some packs (rollback).
        this.packs += packCount(economy, this.deps.options.economyJobSize ?? DEFAULT_ECONOMY_JOB_SIZE);
        if (inFlight.length >= WRITES_IN_FLIGHT) await inFlight.shift();
        inFlight.push(
          enqueueEconomy(this.deps, batch, economy, first).then(
            () => undefined,
            (err: unknown) => {
              failure ??= { err };
            },
          ),
        );
      }
    // Every write settles before a failure is thrown: the rollback then sees every job written.
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure.err;
  }

  /**
   * Hands the realtime items to the feeder before the batch is published. The final spec is written
   * first: worker feeders read it (models, lanes) as soon as the batch is registered, and feed it once
   * it is visible.
   */
  private async registerFeeds(spec: BatchSpec): Promise<void> {
    const models = feedModelsOf(spec);
    if (models.length === 0) return;
    this.enqueueStarted = true;
    await this.deps.store.writeSpec(this.id, spec);
    await this.deps.feeds.register(this.id, models);
  }

  /**
   * Queues the first PIXELMILL_FEED_HIGH_WATER items of each model as jobs right after publishing, so
   * the first provider call waits neither for a worker's feeder nor for the publish (a job taken
   * before it would be handed back, gateItem-3 'pending'). A failure here loses nothing: the batch is
   * registered, and every worker's feeder tops its queues up within a second.
   */
  private async feedFirstItems(spec: BatchSpec): Promise<void> {
    const batch = feedBatchOf(this.id, this.tenantId, spec);
    const highWater = this.deps.options.feedHighWater;
    const first = Math.min(FIRST_FEED, highWater);
    const left = new Map<string, number>();
    for (const model of feedModelsOf(spec)) {
      const { fed, done } = await feedBatch(feedStepDeps(this.deps), model, batch, first);
      if (!done && fed < highWater) left.set(model, highWater - fed);
    }
    for (const [model, rest] of left) await feedBatch(feedStepDeps(this.deps), model, batch, rest);
  }

  /**
   * Writes the last chunk and makes the batch visible, or rolls everything back and throws the 400
   * naming each problem (or a 503 when Redis failed).
   */
  async finish(): Promise<AcceptedBatch> {
    await this.startFlush();
    await this.settled();
    await this.references.settled();
    if (this.count === 0) this.report([{ path: this.itemsName, message: 'A batch needs at least one item' }]);
    if (this.writeError !== undefined) {
      this.deps.logger.error({ err: this.writeError, batch_id: this.id }, 'batch acceptance failed');
      await this.rollback();
      throw new ApiError(
        503,
        'service_unavailable',
        'Could not store the batch; nothing was accepted. Retry later.',
      );
    }
    if (this.problems.length > 0) {
      await this.rollback();
      throw invalidRequest(this.problems);
    }
    const spec: BatchSpec = {
      ...this.spec,
      estimated_micros: this.estimatedMicros,
      images_requested: this.imagesRequested,
      models: this.models(),
    };
    try {
      await reserveTenantQuota(this.deps, this.tenantId, this.id, this.count);
      await this.enqueueAll();
      await this.registerFeeds(spec);
      await this.deps.store.publishBatch(this.id, this.tenantId, spec);
    } catch (err) {
      await this.rollback();
      if (err instanceof ApiError) throw err;
      this.deps.logger.error({ err, batch_id: this.id }, 'batch publish failed');
      throw new ApiError(
        503,
        'service_unavailable',
        'Could not store the batch; nothing was accepted. Retry later.',
      );
    }
    // Accepted. What follows is housekeeping: the gate expires queued items even without the deadline job.
    this.closed = true;
    try {
      await this.feedFirstItems(spec);
    } catch (err) {
      this.deps.logger.warn(
        { err, batch_id: this.id },
        "first feed failed; the workers' feeders queue the items",
      );
    }
    try {
      await this.deps.store.endIngest(this.id);
      if (spec.expires_at) await scheduleDeadline(this.deps, this.id, this.tenantId, spec.expires_at);
    } catch (err) {
      this.deps.logger.warn({ err, batch_id: this.id }, 'after-acceptance housekeeping failed');
    }
    const batch = await this.deps.store.getBatch(this.tenantId, this.id);
    if (batch === null) throw new ApiError(500, 'internal_error', 'Batch vanished after acceptance');
    return this.generatedSecret === undefined ? { batch } : { batch, generatedSecret: this.generatedSecret };
  }

  /** Ends an acceptance that failed outside (a parse error, a body too large): removes what was written. */
  async abort(): Promise<void> {
    if (this.closed) return;
    await this.settled();
    await this.rollback();
  }

  /**
   * Removes jobs, items, the batch and the duplicate-check hash. A job a worker already holds cannot be
   * removed; the worker finds its batch unpublished or its item missing and drops it (gateItem-3.lua).
   */
  private async rollback(): Promise<void> {
    this.closed = true;
    try {
      // Jobs exist only when creating them failed part-way (a refused upload never had any).
      if (this.enqueueStarted) {
        await this.deps.feeds.forget(this.id, this.models());
        await this.removeJobs();
      }
      await releaseTenantQuota(this.deps, this.tenantId, this.id);
      await this.deps.store.discardBatch(this.id, this.tenantId);
    } catch (err) {
      this.deps.logger.error({ err, batch_id: this.id }, 'rollback incomplete');
    }
  }

  /** Every model an item of the batch uses. */
  private models(): string[] {
    return [...new Set([this.spec.model, ...this.modelsUsed])];
  }

  /** Removes the jobs enqueueAll and the first feed wrote before they failed, one by one (rare: Redis failed mid-way). */
  private async removeJobs(): Promise<void> {
    const queues = this.models().map((m) => this.deps.queues.generate(m));
    for await (const ids of this.deps.store.itemIds(this.id)) {
      await Promise.all(ids.flatMap((id) => queues.map((q) => q.remove(id).catch(() => 0))));
    }
    // Economy packs: a pack whose job a worker holds finds its items missing and ends (economy worker).
    for (let pack = 0; pack < this.packs; pack++) {
      await this.deps.queues.economy.remove(economyJobId(this.id, pack)).catch(() => 0);
    }
  }
}

/** What the economy lane cannot take for this item: a model without a batch API for images. */
function economyProblems(model: ModelSpec, locate: Locate): FieldProblem[] {
  return model.economy
    ? []
    : [{ path: locate('model'), message: `${model.id} has no economy lane; see GET /v1/models` }];
}

/** The deadline job: at `expires_at` the finalize worker ends the batch's queued items `expired` (finalize/expire.ts). */
async function scheduleDeadline(
  deps: AppDeps,
  batchId: string,
  tenantId: string,
  expiresAt: string,
): Promise<void> {
  await enqueue(
    deps.queues,
    jobs.expire,
    { batch_id: batchId, tenant_id: tenantId },
    { options: { delay: Math.max(0, Date.parse(expiresAt) - Date.now()) } },
  );
}

/** A whole JSON batch (already schema-checked): the same acceptance, fed from the array. */
export async function acceptBatch(
  deps: AppDeps,
  tenantId: string,
  body: CreateBatchRequest,
): Promise<AcceptedBatch> {
  const { items, ...header } = body;
  if (items.length > deps.options.maxItemsPerBatch) {
    throw new ApiError(
      413,
      'payload_too_large',
      `A batch holds at most ${deps.options.maxItemsPerBatch} items (PIXELMILL_MAX_ITEMS_PER_BATCH)`,
      [{ path: 'items', message: `More than ${deps.options.maxItemsPerBatch} items` }],
    );
  }
  const acceptance = await BatchAcceptance.begin(deps, tenantId, header, {
    locateHeader: (field) => field,
    items: 'items',
    count: items.length,
  });
  try {
    for (const [i, item] of items.entries()) await acceptance.add(item, (field) => `items[${i}].${field}`);
  } catch (err) {
    await acceptance.abort();
    throw err;
  }
  return acceptance.finish();
}
