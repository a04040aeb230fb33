/**
 * The port of the economy lane: a provider's own batch API (providers.md §3). The worker packs items
 * into lines, submits one job per pack, polls it and streams its results; wire formats stay here.
 * @module
 */
import type { ProviderError } from '@pixelmill/core';
import type { GeneratedImage, ProviderKind, ReferenceImage, Size } from '../types.js';

/** One request of a job: one item, all of its images (Gemini: n must be 1). */
export interface BatchLine {
  /** Our id of the line (the item id): Gemini `key`, OpenAI `custom_id`. */
  key: string;
  prompt: string;
  size: Size;
  aspectRatio: string | undefined;
  n: number;
  /**
   * The item's reference images: Gemini inlines them in the line (inlineData), OpenAI uploads each
   * (Files API, purpose vision) and runs the job on /v1/images/edits. An OpenAI job's lines either
   * all have references or none do (one endpoint per job).
   */
  referenceImages: ReferenceImage[];
}

export type BatchJobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired';

export interface BatchJobStatus {
  /** The provider's id (Gemini `batches/…`, OpenAI `batch_…`). */
  id: string;
  /** Our name for the job, carried by the display name (Gemini) or metadata (OpenAI). */
  label: string | undefined;
  state: BatchJobState;
  /** Lines in the job, and lines finished (with a result or an error), when the provider says. */
  total: number | undefined;
  finished: number | undefined;
  /** Results files to stream once ended (empty before; a failed job may have none). */
  resultFiles: string[];
  /**
   * Files pixelmill uploaded for the job and the provider keeps until they are deleted or expire
   * (OpenAI: the input file in every status; the reference images too in the status `submit`
   * returns). Empty where the provider deletes uploads by itself (Gemini: after 48 h).
   */
  inputFiles: string[];
  /** Why a failed job failed. */
  error: string | undefined;
}

/** What the results say about one line; lines absent from the results did not finish. */
export type BatchLineResult =
  | { key: string; images: GeneratedImage[] }
  | { key: string; error: ProviderError };

export interface SubmitBatchRequest {
  upstreamModel: string;
  apiKey: string;
  /** Unique per job and stable across retries: how a job created by a crashed worker is found again. */
  label: string;
  lines: BatchLine[];
  signal?: AbortSignal;
}

export interface BatchImageModel {
  readonly kind: ProviderKind;
  /** Uploads the lines as a JSONL file and creates the job. Rejects with a ProviderError. */
  submit(req: SubmitBatchRequest): Promise<BatchJobStatus>;
  get(apiKey: string, id: string): Promise<BatchJobStatus>;
  /** The newest job of this key carrying `label`, scanning at most `maxJobs` of its newest jobs. */
  findByLabel(apiKey: string, label: string, maxJobs?: number): Promise<BatchJobStatus | undefined>;
  cancel(apiKey: string, id: string): Promise<void>;
  /** The results of an ended job, one line at a time: never the whole file in memory. */
  results(apiKey: string, status: BatchJobStatus): AsyncIterable<BatchLineResult>;
  /**
   * Deletes files of an ended job once its results are stored (inputFiles and resultFiles); a file
   * already gone counts as deleted. Failures are returned, not thrown: the provider's expiry of the
   * uploads (and of results, 30 days at OpenAI) is the fallback. Absent where there is nothing to do.
   */
  deleteFiles?(apiKey: string, ids: string[]): Promise<{ deleted: number; failed: string[] }>;
}

/** Jobs scanned by findByLabel unless told otherwise (newest first, so a recent orphan is near the top). */
export const DEFAULT_LABEL_SCAN = 500;
