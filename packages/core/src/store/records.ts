import type { ItemErrorCode } from '../errors.js';
import { fromMicros } from '../money.js';
import type {
  Batch,
  BatchStatus,
  Item,
  ItemError,
  ItemOutput,
  ItemReview,
  ItemStatus,
  ItemVersion,
  VersionCause,
} from '../schemas/batch.js';
import type {
  BatchMode,
  Lane,
  Metadata,
  OutputFormat,
  Priority,
  Size,
  WebhookEventType,
} from '../schemas/common.js';
import { DEFAULT_KEY_TEMPLATE } from '../schemas/key-template.js';
import { type QaPolicy, qaPolicyOf } from '../schemas/review.js';

/** The parts of a batch fixed at acceptance, kept as one JSON field of the batch hash. */
export interface BatchSpec {
  model: string;
  created_at: string;
  webhook: {
    url: string;
    events: WebhookEventType[];
    secret: string;
    /** Deliveries per second at most; absent: no limit. */
    rate_limit?: number;
  } | null;
  /** `root`: the tenant's root every key of the batch starts with; absent on batches from before roots. */
  output: { prefix: string; format: OutputFormat; key_template?: string; root?: string };
  priority: Priority;
  /** Absent on batches from before modes: realtime. */
  mode?: BatchMode;
  metadata: Metadata;
  estimated_micros: number;
  images_requested: number;
  expires_at?: string | null;
  dedupe?: boolean;
  /** Every model an item of the batch uses (items may override the batch's model). */
  models?: string[];
  /** What a flagged output leads to; absent on batches from before the policy: `keep`. */
  qa?: QaPolicy;
}

/** The parts of an item fixed at acceptance. */
export interface ItemSpec {
  custom_id: string;
  model: string;
  prompt: string;
  size: Size;
  aspect_ratio: string | null;
  n: number;
  reference_images: string[];
  metadata: Metadata;
  /** The lane the item starts in; absent: realtime. The item hash's `lane` field, once set, wins. */
  lane?: Lane;
}

const int = (v: string | undefined): number => (v === undefined || v === '' ? 0 : Number.parseInt(v, 10));

export function batchFromHash(id: string, h: Record<string, string>): { batch: Batch; tenantId: string } {
  const spec = JSON.parse(h.spec ?? '{}') as BatchSpec;
  const counts = {
    total: int(h.total),
    queued: int(h.queued),
    running: int(h.running),
    succeeded: int(h.succeeded),
    failed: int(h.failed),
    cancelled: int(h.cancelled),
    expired: int(h.expired),
  };
  let status: BatchStatus = 'queued';
  if (h.completed_at) status = h.cancel_requested ? 'cancelled' : 'completed';
  else if (h.cancel_requested) status = 'cancelling';
  else if (h.started_at) status = 'running';
  const batch: Batch = {
    id,
    object: 'batch',
    status,
    model: spec.model,
    counts,
    images: { requested: spec.images_requested, generated: int(h.images_generated) },
    cost: { estimated_usd: fromMicros(spec.estimated_micros), actual_usd: fromMicros(int(h.actual_micros)) },
    created_at: spec.created_at,
    completed_at: h.completed_at || null,
    manifest_url: null,
    manifest_key: h.manifest_key || null,
    webhook: spec.webhook ? { url: spec.webhook.url, events: spec.webhook.events } : null,
    output: {
      prefix: spec.output?.prefix ?? '',
      format: spec.output?.format ?? 'png',
      key_template: spec.output?.key_template ?? DEFAULT_KEY_TEMPLATE,
      root: spec.output?.root ?? '',
    },
    priority: spec.priority,
    mode: spec.mode ?? 'realtime',
    metadata: spec.metadata,
    expires_at: spec.expires_at ?? null,
    dedupe: spec.dedupe ?? false,
    results_key: h.results_key || null,
    results_url: null,
    qa: spec.qa ?? qaPolicyOf(undefined),
  };
  return { batch, tenantId: h.tenant_id ?? '' };
}

function parseError(raw: string | undefined): ItemError | null {
  if (!raw) return null;
  const e = JSON.parse(raw) as { code: ItemErrorCode; message: string; retryable: boolean };
  return { code: e.code, message: e.message, retryable: e.retryable };
}

/**
 * Item hash fields of versions and review (the store owns them): `out:<i>` the newest version's outputs,
 * `version` its number (absent: 1), `cause` / `version_at` why and when it began, `ver:<N>` an older
 * version as JSON, `chosen` the chosen `{version, index}` (absent: the newest, every variant),
 * `review` the review as JSON with `review_status` beside it (scanned by listings), `qa_status` the
 * chosen version's QA summary (likewise).
 */
const INITIAL: VersionCause = { reason: 'initial' };
const PENDING: ItemReview = { status: 'pending', by: null, at: null, note: null };

function versionsOf(h: Record<string, string>, spec: ItemSpec, newest: ItemOutput[]): ItemVersion[] {
  const older = Object.entries(h)
    .filter(([k]) => k.startsWith('ver:'))
    .map(([, v]) => JSON.parse(v) as ItemVersion)
    .sort((a, b) => a.version - b.version);
  const current: ItemVersion = {
    version: int(h.version) || 1,
    cause: h.cause ? (JSON.parse(h.cause) as VersionCause) : INITIAL,
    created_at: h.version_at || h.started_at || null,
    prompt: spec.prompt,
    outputs: newest,
  };
  return [...older, current];
}

export function itemFromHash(id: string, h: Record<string, string>): Item {
  const spec = JSON.parse(h.spec ?? '{}') as ItemSpec;
  const newest: ItemOutput[] = Object.entries(h)
    .filter(([k]) => k.startsWith('out:'))
    .map(([, v]) => JSON.parse(v) as ItemOutput)
    .sort((a, b) => a.index - b.index);
  const versions = versionsOf(h, spec, newest);
  const last = versions[versions.length - 1] as ItemVersion;
  const picked = h.chosen ? (JSON.parse(h.chosen) as { version: number; index: number | null }) : null;
  const chosenVersion = versions.find((v) => v.version === picked?.version) ?? last;
  return {
    id,
    object: 'item',
    batch_id: h.batch_id ?? '',
    custom_id: spec.custom_id,
    status: (h.status ?? 'queued') as ItemStatus,
    attempts: int(h.attempts),
    model: spec.model,
    provider: h.provider || null,
    prompt: spec.prompt,
    size: spec.size,
    aspect_ratio: spec.aspect_ratio,
    n: spec.n,
    reference_images: spec.reference_images,
    metadata: spec.metadata,
    lane: (h.lane || spec.lane || 'realtime') as Lane,
    outputs: chosenVersion.outputs,
    error: parseError(h.error) ?? null,
    reused_from: h.reused_from ? (JSON.parse(h.reused_from) as Item['reused_from']) : null,
    cost_usd: fromMicros(int(h.cost_micros)),
    started_at: h.started_at || null,
    finished_at: h.finished_at || null,
    qa_status: qaSummary(chosenVersion.outputs),
    review: h.review ? (JSON.parse(h.review) as ItemReview) : PENDING,
    version: last.version,
    chosen: { version: chosenVersion.version, index: picked?.index ?? null },
    versions,
  };
}

/** The outputs of the item's newest version: what a run of its generation stores (the chosen may be older). */
export function newestOutputs(item: Pick<Item, 'versions' | 'outputs'>): ItemOutput[] {
  return item.versions[item.versions.length - 1]?.outputs ?? item.outputs;
}

/** `flagged` when any output was flagged, `passed` when some were checked and none flagged, else null. */
export function qaSummary(outputs: ItemOutput[]): 'passed' | 'flagged' | null {
  const checked = outputs.filter((o) => o.qa !== undefined);
  if (checked.length === 0) return null;
  return checked.some((o) => o.qa?.status === 'flagged') ? 'flagged' : 'passed';
}
