/**
 * @module The state both simulated batch APIs share: uploaded and generated files, and jobs whose
 * lines finish evenly over the job's completion time (accelerated time: milliseconds, not hours).
 * A job's outcome per line is drawn once, at creation, so every read of its results agrees.
 */
import { randomBytes } from 'node:crypto';
import type { BatchConfig } from '../state.js';

/** What one input line turns into once its turn comes. */
export type LineOutcome =
  /** `n` images of width×height from the prompt. */
  | { kind: 'image'; width: number; height: number; n: number }
  /** The prompt holds a blocked word (its index in blockedWords picks the flavour). */
  | { kind: 'blocked'; wordIndex: number }
  /** A retryable server error for this line only (batch.lineErrorRate). */
  | { kind: 'serverError' }
  /** The provider refused the line's request; `error` is the wire error object. */
  | { kind: 'invalid'; status: number; error: Record<string, unknown> };

export interface SimLine {
  /** Gemini `key` / OpenAI `custom_id`. */
  key: string;
  prompt: string;
  model: string;
  /** Reference images the request carried (Gemini inlineData parts, OpenAI edits `images[]`). */
  references: number;
  outcome: LineOutcome;
}

export interface SimFile {
  id: string;
  owner: string;
  filename: string;
  purpose: string;
  /** Seconds since the epoch. */
  createdAt: number;
  /** Seconds since the epoch when the provider deletes it by itself (OpenAI `expires_after`); none: kept. */
  expiresAt?: number;
  /** Uploaded bytes; absent for a results file, which is produced line by line when read. */
  bytes?: Buffer;
  lines?: () => Iterable<string>;
}

export type Phase = 'validating' | 'running' | 'completed' | 'expired' | 'cancelled' | 'failed';

export interface SimJob {
  id: string;
  provider: 'gemini' | 'openai';
  /** The API key that created it: a job is only visible to its own key (one project/organisation). */
  owner: string;
  model: string;
  /** Gemini displayName; OpenAI has none (metadata carries names there). */
  displayName: string;
  metadata: Record<string, string>;
  endpoint: string;
  inputFileId: string;
  lines: SimLine[];
  /** Distinct per job: makes each job's images distinct and stable across downloads. */
  serial: number;
  /** performance.now() at creation, and wall-clock ms for the wire timestamps. */
  createdAt: number;
  createdWall: number;
  timing: Pick<BatchConfig, 'completionMs' | 'validatingMs' | 'expireAfterMs'>;
  cancelledAt?: number;
  /** A job refused as a whole after creation (e.g. duplicate custom_ids). */
  failure?: { code: string; message: string };
  /** Results files, made once the job has ended. */
  outputFileId?: string | null;
  errorFileId?: string | null;
}

export interface Progress {
  phase: Phase;
  /** Lines finished (the first `done` lines, in input order). */
  done: number;
  /** performance.now() of the end, when ended. */
  endedAt?: number;
}

export interface BatchJobs {
  files: Map<string, SimFile>;
  jobs: Map<string, SimJob>;
  nextSerial: number;
}

export const createBatchJobs = (): BatchJobs => ({ files: new Map(), jobs: new Map(), nextSerial: 1 });

export const newId = (bytes = 12): string => randomBytes(bytes).toString('hex');

/** How far a job is at `now`: lines finish evenly between validatingMs and completionMs. */
export function progressOf(job: SimJob, now: number): Progress {
  const total = job.lines.length;
  if (job.failure !== undefined) return { phase: 'failed', done: 0, endedAt: job.createdAt };
  const { completionMs, validatingMs, expireAfterMs } = job.timing;
  // Lines done after `elapsed` ms. Expiry passes expireAfterMs itself: (createdAt + ms) - createdAt
  // is not always ms in floating point (199.99999999997 would finish one line fewer).
  const doneAfter = (elapsed: number): number => {
    if (elapsed < validatingMs) return 0;
    const span = Math.max(1, completionMs - validatingMs);
    return Math.min(total, Math.floor((total * (elapsed - validatingMs)) / span));
  };
  const expiresAt = expireAfterMs > 0 ? job.createdAt + expireAfterMs : Number.POSITIVE_INFINITY;
  const completesAt = job.createdAt + Math.max(completionMs, validatingMs);
  if (job.cancelledAt !== undefined && job.cancelledAt < Math.min(expiresAt, completesAt)) {
    return { phase: 'cancelled', done: doneAfter(job.cancelledAt - job.createdAt), endedAt: job.cancelledAt };
  }
  if (expiresAt < completesAt && now >= expiresAt) {
    return { phase: 'expired', done: doneAfter(expireAfterMs), endedAt: expiresAt };
  }
  if (now >= completesAt) return { phase: 'completed', done: total, endedAt: completesAt };
  const done = doneAfter(now - job.createdAt);
  return { phase: now - job.createdAt < validatingMs ? 'validating' : 'running', done };
}

export const isEnded = (p: Progress): boolean => p.endedAt !== undefined;

/** The jobs of one key, newest first (both APIs list newest first). */
export function jobsOf(jobs: BatchJobs, provider: SimJob['provider'], owner: string): SimJob[] {
  return [...jobs.jobs.values()]
    .filter((j) => j.provider === provider && j.owner === owner)
    .sort((a, b) => b.serial - a.serial);
}

/** Serves a file's bytes, or produces a results file one line at a time (never whole in memory). */
export function fileBody(file: SimFile): ReadableStream<Uint8Array> | Blob {
  if (file.bytes !== undefined) return new Blob([new Uint8Array(file.bytes)]);
  const iterator = (file.lines?.() ?? [])[Symbol.iterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(`${next.value}\n`));
    },
  });
}

/** Splits an uploaded JSONL file into its non-blank lines. */
export function jsonlLines(bytes: Buffer): string[] {
  return bytes
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
