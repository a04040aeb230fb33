/**
 * OpenAI Batch API adapter for images (providers.md §3b) on the official SDK: the lines go up as a
 * JSONL file (`purpose: batch`), the job runs `/v1/images/generations` with our label in its metadata,
 * and the output and error files are streamed line by line. Lines with reference images run
 * `/v1/images/edits` in its JSON form instead: each distinct reference is uploaded once per job
 * (Files API, `purpose: vision`) and named by file id in `images[]`. SDK retries are off (one retry
 * loop only).
 * @module
 */
import { createHash } from 'node:crypto';
import { ProviderError, textLines } from '@pixelmill/core';
import OpenAI, { APIError, toFile } from 'openai';
import { decodeBase64Image } from '../image-data.js';
import { asArray, asNumber, asRecord, asString, parseJson } from '../json.js';
import { fromSdkError } from '../openai-images.js';
import { openAiImagesError } from '../openai-images-error.js';
import { type OpenAiSizeMode, openAiImageSize, openAiSizeMode } from '../openai-images-size.js';
import type { GeneratedImage, ReferenceImage } from '../types.js';
import {
  type BatchImageModel,
  type BatchJobState,
  type BatchJobStatus,
  type BatchLineResult,
  DEFAULT_LABEL_SCAN,
} from './types.js';

export interface OpenAiBatchOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  sizeMode?: OpenAiSizeMode;
  /** Deadline of each control call; default 120 s. */
  callTimeoutMs?: number;
}

/** The metadata key that carries our label (metadata values are strings of ≤ 512 characters). */
export const OPENAI_LABEL_KEY = 'pixelmill_job';

/**
 * Uploads (input JSONL, reference images) expire 7 days after creation: long past the 24 h
 * completion window, and a fallback for a worker that stopped before deleting them. Reference
 * images (purpose vision) are otherwise kept by OpenAI until deleted.
 */
const UPLOAD_EXPIRY = { anchor: 'created_at', seconds: 7 * 24 * 3600 } as const;
const GENERATIONS = '/v1/images/generations';
const EDITS = '/v1/images/edits';
const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

const STATES: Record<string, BatchJobState> = {
  validating: 'pending',
  in_progress: 'running',
  finalizing: 'running',
  cancelling: 'running',
  completed: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  expired: 'expired',
};

function statusOf(batch: unknown): BatchJobStatus {
  const b = asRecord(batch) ?? {};
  const counts = asRecord(b.request_counts);
  const total = asNumber(counts?.total);
  const done = (asNumber(counts?.completed) ?? 0) + (asNumber(counts?.failed) ?? 0);
  const state = STATES[asString(b.status) ?? ''] ?? 'running';
  const ended = state !== 'pending' && state !== 'running';
  const files = [asString(b.output_file_id), asString(b.error_file_id)].filter((f) => f !== undefined);
  const input = asString(b.input_file_id);
  const errors = asArray(asRecord(b.errors)?.data).map((e) => asString(asRecord(e)?.message));
  return {
    id: asString(b.id) ?? '',
    label: asString(asRecord(b.metadata)?.[OPENAI_LABEL_KEY]),
    state,
    total,
    finished: counts === undefined ? undefined : done,
    resultFiles: ended ? files : [],
    inputFiles: input === undefined ? [] : [input],
    error: errors.filter((e) => e !== undefined).join('; ') || undefined,
  };
}

/** One output or error line; lines the job never ran (expired, cancelled) say nothing. */
function toResult(raw: string): BatchLineResult | undefined {
  const line = asRecord(parseJson(raw));
  const key = asString(line?.custom_id);
  if (line === undefined || key === undefined) return undefined;
  const response = asRecord(line.response);
  if (response === undefined) return undefined; // batch_expired / batch_cancelled: not run
  const status = asNumber(response.status_code) ?? 500;
  const body = response.body;
  const headers = new Headers();
  const requestId = asString(response.request_id);
  if (requestId !== undefined) headers.set('x-request-id', requestId);
  if (status < 200 || status >= 300) return { key, error: openAiImagesError(status, body, headers) };
  const images = asArray(asRecord(body)?.data)
    .map((d) => asString(asRecord(d)?.b64_json))
    .map((b64) => (b64 === undefined ? undefined : decodeBase64Image(b64)))
    .filter((i): i is GeneratedImage => i !== undefined);
  return images.length === 0 ? { key, error: openAiImagesError(status, body, headers) } : { key, images };
}

export function createOpenAiBatchModel(opts: OpenAiBatchOptions): BatchImageModel {
  const fetchFn = opts.fetch ?? fetch;
  const timeout = opts.callTimeoutMs ?? 120_000;
  const clients = new Map<string, OpenAI>();
  const clientFor = (apiKey: string): OpenAI => {
    let client = clients.get(apiKey);
    if (client === undefined) {
      client = new OpenAI({ apiKey, baseURL: opts.baseUrl, maxRetries: 0, fetch: fetchFn, timeout });
      clients.set(apiKey, client);
    }
    return client;
  };
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw fromSdkError(err, false);
    }
  };

  return {
    kind: 'openai-images',
    async submit(req) {
      const mode = opts.sizeMode ?? openAiSizeMode(req.upstreamModel);
      const withRefs = req.lines.filter((l) => l.referenceImages.length > 0).length;
      if (withRefs > 0 && withRefs < req.lines.length) {
        throw new ProviderError({
          code: 'config_error',
          message:
            'An OpenAI batch job runs one endpoint: lines with and without reference images cannot share one',
          retryable: false,
          scope: 'model',
        });
      }
      const endpoint = withRefs > 0 ? EDITS : GENERATIONS;
      const client = clientFor(req.apiKey);
      return guard(async () => {
        /** File id of each distinct reference (by content), uploaded once per job. */
        const fileIds = new Map<string, string>();
        const fileIdOf = async (ref: ReferenceImage): Promise<string> => {
          const digest = createHash('sha256').update(ref.bytes).digest('hex');
          let id = fileIds.get(digest);
          if (id === undefined) {
            const name = `${req.label}-ref-${fileIds.size}.${EXTENSIONS[ref.mimeType] ?? 'png'}`;
            const uploaded = await client.files.create(
              {
                file: await toFile(ref.bytes, name, { type: ref.mimeType }),
                purpose: 'vision',
                expires_after: UPLOAD_EXPIRY,
              },
              { signal: req.signal },
            );
            id = uploaded.id;
            fileIds.set(digest, id);
          }
          return id;
        };
        const lines: string[] = [];
        for (const l of req.lines) {
          const images = [];
          for (const ref of l.referenceImages) images.push({ file_id: await fileIdOf(ref) });
          lines.push(
            JSON.stringify({
              custom_id: l.key,
              method: 'POST',
              url: endpoint,
              body: {
                model: req.upstreamModel,
                prompt: l.prompt,
                n: l.n,
                size: openAiImageSize(mode, l.size, l.aspectRatio),
                ...(images.length > 0 ? { images } : {}),
              },
            }),
          );
        }
        const file = await client.files.create(
          {
            file: await toFile(Buffer.from(lines.join('\n')), `${req.label}.jsonl`),
            purpose: 'batch',
            expires_after: UPLOAD_EXPIRY,
          },
          { signal: req.signal },
        );
        const batch = await client.batches.create(
          {
            input_file_id: file.id,
            endpoint,
            completion_window: '24h',
            metadata: { [OPENAI_LABEL_KEY]: req.label },
          },
          { signal: req.signal },
        );
        const status = statusOf(batch);
        return { ...status, inputFiles: [...status.inputFiles, ...fileIds.values()] };
      });
    },
    get: (apiKey, id) => guard(async () => statusOf(await clientFor(apiKey).batches.retrieve(id))),
    findByLabel: (apiKey, label, maxJobs = DEFAULT_LABEL_SCAN) =>
      guard(async () => {
        let seen = 0;
        for await (const batch of clientFor(apiKey).batches.list({ limit: 100 })) {
          const status = statusOf(batch);
          if (status.label === label) return status;
          if (++seen >= maxJobs) break;
        }
        return undefined;
      }),
    cancel: (apiKey, id) =>
      guard(async () => {
        await clientFor(apiKey).batches.cancel(id);
      }),
    async deleteFiles(apiKey, ids) {
      const client = clientFor(apiKey);
      const failed: string[] = [];
      let deleted = 0;
      for (const id of ids) {
        try {
          await client.files.delete(id);
          deleted++;
        } catch (err) {
          if (err instanceof APIError && err.status === 404) deleted++;
          else failed.push(id);
        }
      }
      return { deleted, failed };
    },
    async *results(apiKey, status) {
      for (const file of status.resultFiles) {
        const res = await guard(() => clientFor(apiKey).files.content(file));
        try {
          for await (const raw of textLines(res.body)) {
            const result = toResult(raw);
            if (result !== undefined) yield result;
          }
        } catch (err) {
          throw fromSdkError(err, false);
        }
      }
    },
  };
}
