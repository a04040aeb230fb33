import type { ItemErrorCode } from '../errors.js';
import type { BatchMode, Lane, Metadata, OutputFormat, Priority, Size, WebhookEventType } from './common.js';
import type { QaPolicy, ReviewStatus } from './review.js';

/** `cancelling`: cancel was asked and running items are still finishing. */
export type BatchStatus = 'queued' | 'running' | 'cancelling' | 'completed' | 'cancelled';
export const itemStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type ItemStatus = (typeof itemStatuses)[number];
export const terminalItemStatuses: readonly ItemStatus[] = ['succeeded', 'failed', 'cancelled', 'expired'];

export interface BatchCounts {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Items the batch's `expires_at` reached before they started. */
  expired: number;
}

/** The batch object of the API (api.md "Batches"). */
export interface Batch {
  id: string;
  object: 'batch';
  status: BatchStatus;
  model: string;
  counts: BatchCounts;
  images: { requested: number; generated: number };
  cost: { estimated_usd: number; actual_usd: number };
  created_at: string;
  completed_at: string | null;
  manifest_url: string | null;
  manifest_key: string | null;
  webhook: { url: string; events: WebhookEventType[]; secret?: string } | null;
  /** `root`: the tenant's folder ahead of every key of the batch (api.md "Bucket layout"). */
  output: { prefix: string; format: OutputFormat; key_template: string; root: string };
  priority: Priority;
  /** How the batch's images are obtained (realtime or economy). */
  mode: BatchMode;
  metadata: Metadata;
  expires_at: string | null;
  dedupe: boolean;
  /** The CSV of every item's outcome, written with the manifest when the batch ends. */
  results_key: string | null;
  results_url: string | null;
  /** What a flagged output leads to (api.md "Review and versions"). */
  qa: QaPolicy;
}

export interface ItemOutput {
  index: number;
  key: string;
  url?: string;
  content_type: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  /** A WebP preview (long side ≤ 256 px) next to the original; absent on outputs stored before previews. */
  thumbnail_key?: string;
  thumbnail_url?: string;
  /** The model that produced this image: the item's model, or the fallback it was moved to. */
  model?: string;
  /** Automatic checks run when the output was stored (api.md "Output QA"); absent on older outputs. */
  qa?: OutputQa;
}

export const qaCheckNames = ['decodes', 'dimensions', 'aspect_ratio', 'blank', 'duplicate'] as const;
export type QaCheckName = (typeof qaCheckNames)[number];

/** One automatic check of an output: `value` is what was measured (api.md "Output QA"). */
export interface QaCheck {
  name: QaCheckName;
  passed: boolean;
  value: number | string | null;
  /** `duplicate` only: the earlier output of the same batch this one nearly repeats. */
  of?: { custom_id: string; index: number };
}

/** `flagged` when any check did not pass; a flag never fails or delays the item. */
export interface OutputQa {
  status: 'passed' | 'flagged';
  checks: QaCheck[];
  /** 64-bit difference hash (dHash) of the image, 16 hex digits; null when it did not decode. */
  dhash: string | null;
}

export interface ItemError {
  code: ItemErrorCode;
  message: string;
  retryable: boolean;
}

/** An item's review (api.md "Review and versions"); `pending` until someone approves or rejects it. */
export interface ItemReview {
  status: ReviewStatus;
  /** The reviewing API key's id (first 10 hex digits of its SHA-256), never the key. */
  by: string | null;
  at: string | null;
  note: string | null;
}

/** Why a version of an item exists: the first generation, a QA flag, or a request. */
export type VersionCause =
  | { reason: 'initial' }
  | { reason: 'qa_flag'; checks: QaCheckName[]; indexes: number[] }
  | { reason: 'requested'; by: string; changed: string[] };

/** One version of an item's outputs (a regeneration adds one). */
export interface ItemVersion {
  version: number;
  cause: VersionCause;
  created_at: string | null;
  /** The prompt this version was generated from. */
  prompt: string;
  outputs: ItemOutput[];
}

/** The item object of the API (api.md "Items and outputs"). */
export interface Item {
  id: string;
  object: 'item';
  batch_id: string;
  custom_id: string;
  status: ItemStatus;
  attempts: number;
  model: string;
  provider: string | null;
  prompt: string;
  size: Size;
  aspect_ratio: string | null;
  n: number;
  reference_images: string[];
  metadata: Metadata;
  /** The lane obtaining (or that obtained) the item's images; economy items move to realtime on a retryable error. */
  lane: Lane;
  outputs: ItemOutput[];
  error: ItemError | null;
  /** Set when the outputs were copied from an identical earlier generation (batch `dedupe`); cost 0. */
  reused_from: { batch_id: string; item_id: string; custom_id: string } | null;
  cost_usd: number;
  started_at: string | null;
  finished_at: string | null;
  /** `flagged` when an output of the chosen version was flagged, `passed` when its outputs passed. */
  qa_status: 'passed' | 'flagged' | null;
  review: ItemReview;
  /** The newest version's number (1 until a regeneration). */
  version: number;
  /** The chosen version and variant (`index` null: all of the version's outputs); `outputs` shows it. */
  chosen: { version: number; index: number | null };
  /** Every version, oldest first, the newest one last (its outputs as they are stored so far). */
  versions: ItemVersion[];
}
