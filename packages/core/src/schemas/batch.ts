import type { ItemErrorCode } from '../errors.js';
import type { Metadata, OutputFormat, Priority, Size, WebhookEventType } from './common.js';

export type BatchStatus = 'queued' | 'running' | 'completed' | 'cancelled';
export type ItemStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const terminalItemStatuses: readonly ItemStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface BatchCounts {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
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
  output: { prefix: string; format: OutputFormat };
  priority: Priority;
  metadata: Metadata;
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
}

export interface ItemError {
  code: ItemErrorCode;
  message: string;
  retryable: boolean;
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
  outputs: ItemOutput[];
  error: ItemError | null;
  cost_usd: number;
  started_at: string | null;
  finished_at: string | null;
}
