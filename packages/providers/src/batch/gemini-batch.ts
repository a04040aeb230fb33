/**
 * Gemini Batch API adapter (providers.md §3): the lines go up as a JSONL file through the Files API
 * (resumable upload; reference images inlined in their line as inlineData, like the realtime request),
 * the job is created with `batchGenerateContent` and our label as its displayName,
 * and the results come back as a responses file streamed line by line (file output only: inline
 * results of big image jobs could not be fetched back upstream).
 * @module
 */
import { ProviderError, textLines } from '@pixelmill/core';
import { startDeadline } from '../deadline.js';
import { DEFAULT_MAX_DOWNLOAD_BYTES } from '../download.js';
import { geminiRequestBody, lastImage } from '../gemini.js';
import { geminiError } from '../gemini-error.js';
import { joinUrl } from '../http.js';
import { asArray, asNumber, asRecord, asString, type JsonRecord, parseJson } from '../json.js';
import { networkError } from '../network-error.js';
import type { GenerateRequest } from '../types.js';
import {
  type BatchImageModel,
  type BatchJobState,
  type BatchJobStatus,
  type BatchLine,
  type BatchLineResult,
  DEFAULT_LABEL_SCAN,
} from './types.js';

export interface GeminiBatchOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  sendImageSize?: boolean;
  /** Deadline of each control call (upload, create, get, list, cancel); default 120 s. */
  callTimeoutMs?: number;
  /** Deadline of a whole results download; default 1 h. */
  downloadTimeoutMs?: number;
  maxDownloadBytes?: number;
}

const STATES: Record<string, BatchJobState> = {
  BATCH_STATE_PENDING: 'pending',
  BATCH_STATE_RUNNING: 'running',
  BATCH_STATE_SUCCEEDED: 'succeeded',
  BATCH_STATE_FAILED: 'failed',
  BATCH_STATE_CANCELLED: 'cancelled',
  BATCH_STATE_EXPIRED: 'expired',
};

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : asNumber(v);
  return n !== undefined && Number.isFinite(n) ? n : undefined;
};

/** An Operation (create, get, list) as a status; its metadata is the GenerateContentBatch. */
function statusOf(op: unknown): BatchJobStatus {
  const root = asRecord(op);
  const meta = asRecord(root?.metadata) ?? {};
  const stats = asRecord(meta.batchStats);
  const total = num(stats?.requestCount);
  const pending = num(stats?.pendingRequestCount);
  const output = asRecord(meta.output) ?? asRecord(asRecord(root?.response));
  const file = asString(output?.responsesFile);
  return {
    id: asString(root?.name) ?? asString(meta.name) ?? '',
    label: asString(meta.displayName),
    state: STATES[asString(meta.state) ?? ''] ?? 'running',
    total,
    finished: total !== undefined && pending !== undefined ? total - pending : undefined,
    resultFiles: file === undefined ? [] : [file],
    // Gemini deletes uploaded files by itself after 48 h.
    inputFiles: [],
    error: asString(asRecord(root?.error)?.message),
  };
}

export function createGeminiBatchModel(opts: GeminiBatchOptions): BatchImageModel {
  const fetchFn = opts.fetch ?? fetch;
  const sendImageSize = opts.sendImageSize ?? true;
  const callTimeoutMs = opts.callTimeoutMs ?? 120_000;
  const maxBytes = opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;

  /** One control call: non-2xx answers go through the realtime classifier. */
  async function call(
    apiKey: string,
    url: string,
    init: { method: string; body?: RequestInit['body']; headers?: Record<string, string> },
    signal?: AbortSignal,
  ): Promise<{ body: unknown; headers: Headers }> {
    const deadline = startDeadline(callTimeoutMs, signal);
    try {
      const res = await fetchFn(url, {
        method: init.method,
        headers: { 'x-goog-api-key': apiKey, ...init.headers },
        ...(init.body === undefined ? {} : { body: init.body }),
        signal: deadline.signal,
      });
      const text = await res.text();
      const body = parseJson(text);
      if (res.status < 200 || res.status >= 300) throw geminiError(res.status, body, res.headers);
      return { body, headers: res.headers };
    } catch (err) {
      throw networkError(err, deadline.timedOut());
    }
  }

  async function upload(apiKey: string, label: string, bytes: Buffer, signal?: AbortSignal): Promise<string> {
    const start = await call(
      apiKey,
      joinUrl(opts.baseUrl, 'upload/v1beta/files'),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-goog-upload-protocol': 'resumable',
          'x-goog-upload-command': 'start',
          'x-goog-upload-header-content-length': String(bytes.length),
          'x-goog-upload-header-content-type': 'application/jsonl',
        },
        body: JSON.stringify({ file: { displayName: `${label}.jsonl`, mimeType: 'application/jsonl' } }),
      },
      signal,
    );
    const uploadUrl = start.headers.get('x-goog-upload-url');
    if (uploadUrl === null) {
      throw new ProviderError({
        code: 'provider_error',
        message: 'Gemini Files API answered the upload start without x-goog-upload-url',
        retryable: true,
        scope: 'item',
      });
    }
    const done = await call(
      apiKey,
      uploadUrl,
      {
        method: 'POST',
        headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
        body: new Uint8Array(bytes),
      },
      signal,
    );
    const name = asString(asRecord(asRecord(done.body)?.file)?.name);
    if (name === undefined) {
      throw new ProviderError({
        code: 'provider_error',
        message: 'Gemini Files API finalized the upload without a file name',
        retryable: true,
        scope: 'item',
      });
    }
    return name;
  }

  const requestLine = (line: BatchLine): JsonRecord => {
    if (line.n !== 1) {
      throw new ProviderError({
        code: 'config_error',
        message: `Gemini returns one image per request; line ${line.key} asked for ${line.n}`,
        retryable: false,
        scope: 'model',
      });
    }
    const req: GenerateRequest = {
      upstreamModel: '',
      prompt: line.prompt,
      size: line.size,
      aspectRatio: line.aspectRatio,
      n: 1,
      referenceImages: line.referenceImages,
      apiKey: '',
      timeoutMs: 0,
    };
    return { key: line.key, request: geminiRequestBody(req, sendImageSize) };
  };

  async function toResult(raw: string, signal: AbortSignal): Promise<BatchLineResult | undefined> {
    const line = asRecord(parseJson(raw));
    const key = asString(line?.key);
    if (line === undefined || key === undefined) return undefined;
    const error = asRecord(line.error);
    if (error !== undefined) {
      return { key, error: geminiError(asNumber(error.code) ?? 500, { error }) };
    }
    const response = line.response;
    const image = await lastImage(response, { fetch: fetchFn, signal, maxBytes });
    return image === undefined ? { key, error: geminiError(200, response) } : { key, images: [image] };
  }

  return {
    kind: 'gemini',
    async submit(req) {
      const text = req.lines.map((l) => JSON.stringify(requestLine(l))).join('\n');
      const fileName = await upload(req.apiKey, req.label, Buffer.from(text), req.signal);
      const created = await call(
        req.apiKey,
        joinUrl(opts.baseUrl, `v1beta/models/${encodeURIComponent(req.upstreamModel)}:batchGenerateContent`),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ batch: { displayName: req.label, inputConfig: { fileName } } }),
        },
        req.signal,
      );
      return statusOf(created.body);
    },
    async get(apiKey, id) {
      return statusOf((await call(apiKey, joinUrl(opts.baseUrl, `v1beta/${id}`), { method: 'GET' })).body);
    },
    async findByLabel(apiKey, label, maxJobs = DEFAULT_LABEL_SCAN) {
      let token: string | undefined;
      let seen = 0;
      do {
        const query = `pageSize=100${token === undefined ? '' : `&pageToken=${encodeURIComponent(token)}`}`;
        const page = asRecord(
          (await call(apiKey, joinUrl(opts.baseUrl, `v1beta/batches?${query}`), { method: 'GET' })).body,
        );
        for (const op of asArray(page?.operations)) {
          const status = statusOf(op);
          if (status.label === label) return status;
          seen++;
        }
        token = asString(page?.nextPageToken);
      } while (token !== undefined && seen < maxJobs);
      return undefined;
    },
    async cancel(apiKey, id) {
      await call(apiKey, joinUrl(opts.baseUrl, `v1beta/${id}:cancel`), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
    },
    async *results(apiKey, status) {
      for (const file of status.resultFiles) {
        const deadline = startDeadline(opts.downloadTimeoutMs ?? 3_600_000, undefined);
        let res: Response;
        try {
          res = await fetchFn(joinUrl(opts.baseUrl, `download/v1beta/${file}:download?alt=media`), {
            headers: { 'x-goog-api-key': apiKey },
            signal: deadline.signal,
          });
        } catch (err) {
          throw networkError(err, deadline.timedOut());
        }
        if (!res.ok) throw geminiError(res.status, parseJson(await res.text()), res.headers);
        try {
          for await (const raw of textLines(res.body)) {
            const result = await toResult(raw, deadline.signal);
            if (result !== undefined) yield result;
          }
        } catch (err) {
          throw networkError(err, deadline.timedOut());
        }
      }
    },
  };
}
