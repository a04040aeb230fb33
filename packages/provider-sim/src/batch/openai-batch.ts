/**
 * @module OpenAI's Files and Batch APIs for images (providers.md §3b): `POST /v1/files` (purpose
 * batch), `GET /v1/files/{id}[/content]`, `POST /v1/batches`, `GET /v1/batches[/{id}]`,
 * `POST /v1/batches/{id}/cancel`. One model per file; output lines carry the Images response. Edits
 * (`/v1/images/edits`) take the JSON form: `images[]` of `{file_id}` (a file of purpose vision) or
 * `{image_url}`, 1 to 16 of them.
 */
import type { Hono } from 'hono';
import { openaiDims, openaiModel, sizeDirective } from '../models.js';
import { bearerKey, openaiError, openaiMissingKey, openaiRevokedKey } from '../openai-images.js';
import { json, type SimContext, type SimEnv } from '../pipeline.js';
import type { SimState } from '../state.js';
import {
  fileBody,
  isEnded,
  jobsOf,
  jsonlLines,
  newId,
  type Progress,
  progressOf,
  type SimFile,
  type SimJob,
  type SimLine,
} from './jobs.js';
import { drawLine, drawsOutage, lineImage } from './lines.js';

const ENDPOINTS = ['/v1/images/generations', '/v1/images/edits'];
const MAX_LINES = 50_000;
const MAX_EDIT_IMAGES = 16;
/** Purposes `POST /v1/files` takes here: batch input, and images for edits. */
const PURPOSES = ['batch', 'vision'];
const WINDOW_S = 24 * 3600;

const STATUS: Record<Progress['phase'], string> = {
  validating: 'validating',
  running: 'in_progress',
  completed: 'completed',
  expired: 'expired',
  cancelled: 'cancelled',
  failed: 'failed',
};

const invalidRequest = (message: string, param: string | null = null, status = 400) =>
  openaiError(status, { message, type: 'invalid_request_error', param });

const notFound = (what: string, id: string) =>
  openaiError(404, { message: `No such ${what}: '${id}'`, type: 'invalid_request_error' });

const unavailable = () =>
  openaiError(503, { message: 'The server is overloaded or not ready yet.', type: 'server_error' });

/** The caller's key, or the response that refuses it. */
function auth(state: SimState, c: SimContext): string | Response {
  const key = bearerKey(c);
  if (key === undefined) return openaiMissingKey();
  if (state.config.revokedKeys.includes(key)) return openaiRevokedKey(key);
  if (drawsOutage(state)) return unavailable();
  return key;
}

const fileObject = (f: SimFile) => ({
  id: f.id,
  object: 'file',
  bytes: f.bytes?.length ?? null,
  created_at: f.createdAt,
  expires_at: f.expiresAt ?? null,
  filename: f.filename,
  purpose: f.purpose,
  status: 'processed',
});

/** Bounds of `expires_after.seconds` (files) and `output_expires_after.seconds` (batches). */
const EXPIRY_MIN_S = 3600;
const EXPIRY_MAX_S = 2_592_000;

/** A valid expiry policy's seconds; a string naming the problem otherwise. */
function expirySeconds(anchor: unknown, seconds: unknown): number | string {
  const s = Number(seconds);
  if (anchor !== 'created_at') return "Invalid value for 'anchor': only 'created_at' is supported.";
  if (!Number.isInteger(s) || s < EXPIRY_MIN_S || s > EXPIRY_MAX_S) {
    return `Invalid value for 'seconds': must be an integer between ${EXPIRY_MIN_S} and ${EXPIRY_MAX_S}.`;
  }
  return s;
}

/**
 * The edit's `images[]` as the JSON form takes them: how many, or why they are refused. A `file_id`
 * must name a file of the caller with purpose vision; an `image_url` an http(s) or data URL.
 */
function editImages(state: SimState, owner: string, images: unknown): number | string {
  if (!Array.isArray(images) || images.length === 0) return "Missing required parameter: 'images'.";
  if (images.length > MAX_EDIT_IMAGES) return `Invalid 'images': at most ${MAX_EDIT_IMAGES} images.`;
  for (const image of images as Array<Record<string, unknown> | null>) {
    const fileId = image?.file_id;
    const url = image?.image_url;
    if (typeof fileId === 'string') {
      const f = state.batches.files.get(fileId);
      if (f === undefined || f.owner !== owner || f.purpose !== 'vision' || f.bytes === undefined) {
        return `Invalid 'images': no such file '${fileId}' with purpose vision.`;
      }
    } else if (typeof url !== 'string' || !/^(https?:|data:image\/)/i.test(url)) {
      return "Invalid 'images': each needs a file_id or an image_url.";
    }
  }
  return images.length;
}

/** One input line checked as the Images API would; a bad request becomes that line's error. */
function parseLine(
  state: SimState,
  raw: Record<string, unknown>,
  customId: string,
  edits: { owner: string } | undefined,
): SimLine {
  const body = (raw.body ?? {}) as Record<string, unknown>;
  const model = typeof body.model === 'string' ? body.model : 'dall-e-2';
  const prompt = typeof body.prompt === 'string' ? body.prompt : '';
  const images = edits === undefined ? 0 : editImages(state, edits.owner, body.images);
  const references = typeof images === 'number' ? images : 0;
  const refuse = (status: number, message: string, param: string | null, code: string | null): SimLine => ({
    key: customId,
    prompt,
    model,
    references,
    outcome: { kind: 'invalid', status, error: { message, type: 'invalid_request_error', param, code } },
  });
  const om = openaiModel(model);
  if (om === undefined) {
    return refuse(
      404,
      `The model \`${model}\` does not exist or you do not have access to it.`,
      null,
      'model_not_found',
    );
  }
  if (prompt === '')
    return refuse(400, "Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
  if (typeof images === 'string') return refuse(400, images, 'images', 'invalid_value');
  const n = body.n === undefined ? 1 : Number(body.n);
  if (!Number.isInteger(n) || n < 1 || n > 10) {
    return refuse(400, `Invalid 'n': expected an integer between 1 and 10.`, 'n', 'invalid_value');
  }
  const dims = openaiDims(om, body.size === undefined ? 'auto' : String(body.size));
  if (typeof dims === 'string') return refuse(400, dims, 'size', 'invalid_value');
  const size = sizeDirective(prompt) ?? dims;
  return { key: customId, prompt, model, references, outcome: drawLine(state, prompt, { ...size, n }) };
}

/** The batch's input, or why the whole batch fails validation (OpenAI fails the batch, not a line). */
function readInput(
  state: SimState,
  bytes: Buffer,
  endpoint: string,
  owner: string,
): { lines: SimLine[] } | { failure: { code: string; message: string } } {
  const lines: SimLine[] = [];
  const seen = new Set<string>();
  const texts = jsonlLines(bytes);
  if (texts.length > MAX_LINES) {
    return { failure: { code: 'too_many_requests', message: `At most ${MAX_LINES} requests per batch.` } };
  }
  for (const [i, text] of texts.entries()) {
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { failure: { code: 'invalid_json_line', message: `Line ${i + 1} is not valid JSON.` } };
    }
    const customId = raw.custom_id;
    if (typeof customId !== 'string' || customId === '') {
      return {
        failure: { code: 'missing_required_parameter', message: `Line ${i + 1}: custom_id is required.` },
      };
    }
    if (seen.has(customId)) {
      return {
        failure: {
          code: 'duplicate_custom_id',
          message: `The custom_id '${customId}' is used more than once.`,
        },
      };
    }
    seen.add(customId);
    if (raw.method !== 'POST' || raw.url !== endpoint) {
      return {
        failure: { code: 'invalid_url', message: `Line ${i + 1}: method must be POST and url ${endpoint}.` },
      };
    }
    lines.push(parseLine(state, raw, customId, endpoint === '/v1/images/edits' ? { owner } : undefined));
  }
  const models = new Set(lines.map((l) => l.model));
  if (models.size > 1) {
    return {
      failure: { code: 'mismatched_model', message: 'All requests of a batch must use the same model.' },
    };
  }
  return { lines };
}

function resultLine(job: SimJob, index: number): { ok: boolean; text: string } {
  const line = job.lines[index]!;
  const requestId = `req_${job.id.slice(6)}${index.toString(16).padStart(6, '0')}`;
  const id = `batch_req_${job.serial}_${index}`;
  const wrap = (status: number, body: unknown) =>
    JSON.stringify({
      id,
      custom_id: line.key,
      response: { status_code: status, request_id: requestId, body },
      error: null,
    });
  const o = line.outcome;
  switch (o.kind) {
    case 'image': {
      const data = Array.from({ length: o.n }, (_, k) => ({
        b64_json: lineImage(job, index, k).toString('base64'),
      }));
      const body = {
        created: Math.floor(job.createdWall / 1000),
        data,
        output_format: 'png',
        size: `${o.width}x${o.height}`,
        usage: { input_tokens: 10, output_tokens: 1056 * o.n, total_tokens: 10 + 1056 * o.n },
      };
      return { ok: true, text: wrap(200, body) };
    }
    case 'blocked':
      return {
        ok: false,
        text: wrap(400, {
          error: {
            message: 'Your request was rejected by the safety system.',
            type: 'image_generation_user_error',
            param: null,
            code: 'moderation_blocked',
          },
        }),
      };
    case 'serverError':
      return {
        ok: false,
        text: wrap(500, {
          error: {
            message: 'The server had an error while processing your request.',
            type: 'server_error',
            param: null,
            code: null,
          },
        }),
      };
    case 'invalid':
      return { ok: false, text: wrap(o.status, { error: o.error }) };
  }
}

/** Once ended, the output and error files exist (null when they would be empty), made once. */
function finalize(state: SimState, job: SimJob, p: Progress): void {
  if (!isEnded(p) || job.outputFileId !== undefined) return;
  const done = p.done;
  const okAt = (i: number) => i < done && job.lines[i]!.outcome.kind === 'image';
  const anyOk = job.lines.some((_, i) => okAt(i));
  const anyError = job.lines.some((_, i) => !okAt(i));
  const createdAt = Math.floor(Date.now() / 1000);
  const files = state.batches.files;
  job.outputFileId = null;
  job.errorFileId = null;
  if (job.failure !== undefined) return;
  if (anyOk) {
    const id = `file-${newId()}`;
    files.set(id, {
      id,
      owner: job.owner,
      filename: `batch_${job.id}_output.jsonl`,
      purpose: 'batch_output',
      createdAt,
      *lines() {
        for (let i = 0; i < done; i++) if (okAt(i)) yield resultLine(job, i).text;
      },
    });
    job.outputFileId = id;
  }
  if (anyError) {
    const id = `file-${newId()}`;
    const why = p.phase === 'cancelled' ? 'batch_cancelled' : 'batch_expired';
    files.set(id, {
      id,
      owner: job.owner,
      filename: `batch_${job.id}_error.jsonl`,
      purpose: 'batch_output',
      createdAt,
      *lines() {
        for (let i = 0; i < job.lines.length; i++) {
          if (i < done) {
            if (!okAt(i)) yield resultLine(job, i).text;
            continue;
          }
          const message =
            why === 'batch_expired'
              ? 'This request could not be executed before the completion window expired.'
              : 'This request was not executed because the batch was cancelled.';
          yield JSON.stringify({
            id: `batch_req_${job.serial}_${i}`,
            custom_id: job.lines[i]!.key,
            response: null,
            error: { code: why, message },
          });
        }
      },
    });
    job.errorFileId = id;
  }
}

function batchObject(state: SimState, job: SimJob) {
  const p = progressOf(job, state.now());
  finalize(state, job, p);
  const wall = (t: number | undefined) =>
    t === undefined ? null : Math.floor((job.createdWall + (t - job.createdAt)) / 1000);
  const created = Math.floor(job.createdWall / 1000);
  const failed = job.lines.slice(0, p.done).filter((l) => l.outcome.kind !== 'image').length;
  const status = STATUS[p.phase];
  return {
    id: job.id,
    object: 'batch',
    endpoint: job.endpoint,
    errors:
      job.failure === undefined
        ? null
        : {
            object: 'list',
            data: [{ code: job.failure.code, message: job.failure.message, param: null, line: null }],
          },
    input_file_id: job.inputFileId,
    completion_window: '24h',
    status,
    output_file_id: job.outputFileId ?? null,
    error_file_id: job.errorFileId ?? null,
    created_at: created,
    in_progress_at: p.phase === 'validating' || job.failure ? null : created,
    expires_at: created + WINDOW_S,
    finalizing_at: status === 'completed' ? wall(p.endedAt) : null,
    completed_at: status === 'completed' ? wall(p.endedAt) : null,
    failed_at: status === 'failed' ? created : null,
    expired_at: status === 'expired' ? wall(p.endedAt) : null,
    cancelling_at: job.cancelledAt === undefined ? null : wall(job.cancelledAt),
    cancelled_at: status === 'cancelled' ? wall(p.endedAt) : null,
    request_counts: { total: job.lines.length, completed: p.done - failed, failed },
    metadata: job.metadata,
  };
}

function ownJob(state: SimState, id: string, key: string): SimJob | undefined {
  const job = state.batches.jobs.get(id);
  return job !== undefined && job.provider === 'openai' && job.owner === key ? job : undefined;
}

export function registerOpenAiBatch(app: Hono<SimEnv>, state: SimState): void {
  app.post('/v1/files', async (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    if (!(c.req.header('content-type') ?? '').includes('multipart/form-data')) {
      return invalidRequest('Invalid Content-Type header, expected multipart/form-data.');
    }
    const form = await c.req.parseBody();
    const file = form.file;
    if (!(file instanceof File)) return invalidRequest("Missing required parameter: 'file'.", 'file');
    const purpose = String(form.purpose ?? '');
    if (!PURPOSES.includes(purpose)) return invalidRequest("Invalid value for 'purpose'.", 'purpose');
    const createdAt = Math.floor(Date.now() / 1000);
    let expiresAt: number | undefined;
    if (form['expires_after[anchor]'] !== undefined || form['expires_after[seconds]'] !== undefined) {
      const seconds = expirySeconds(form['expires_after[anchor]'], form['expires_after[seconds]']);
      if (typeof seconds === 'string') return invalidRequest(seconds, 'expires_after');
      expiresAt = createdAt + seconds;
    }
    const id = `file-${newId()}`;
    const stored: SimFile = {
      id,
      owner: key,
      filename: file.name,
      purpose,
      createdAt,
      ...(expiresAt === undefined ? {} : { expiresAt }),
      bytes: Buffer.from(await file.arrayBuffer()),
    };
    state.batches.files.set(id, stored);
    return json(fileObject(stored), 200);
  });

  app.get('/v1/files', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const purpose = c.req.query('purpose');
    const data = [...state.batches.files.values()]
      .filter((f) => f.owner === key && (purpose === undefined || f.purpose === purpose))
      .map(fileObject);
    return json(
      {
        object: 'list',
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: false,
      },
      200,
    );
  });

  app.delete('/v1/files/:id', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const id = c.req.param('id');
    const f = state.batches.files.get(id);
    if (f === undefined || f.owner !== key) return notFound('file', id);
    state.batches.files.delete(id);
    return json({ id, object: 'file', deleted: true }, 200);
  });

  app.get('/v1/files/:id', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const f = state.batches.files.get(c.req.param('id'));
    if (f === undefined || f.owner !== key) return notFound('file', c.req.param('id'));
    return json(fileObject(f), 200);
  });

  app.get('/v1/files/:id/content', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const f = state.batches.files.get(c.req.param('id'));
    if (f === undefined || f.owner !== key) return notFound('file', c.req.param('id'));
    return new Response(fileBody(f), { headers: { 'content-type': 'application/octet-stream' } });
  });

  app.post('/v1/batches', async (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    if (state.config.depletedKeys.includes(key)) {
      return openaiError(429, {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      });
    }
    let body: Record<string, unknown>;
    try {
      body = (await c.req.json()) as Record<string, unknown>;
    } catch {
      return invalidRequest('We could not parse the JSON body of your request.');
    }
    const endpoint = String(body.endpoint ?? '');
    if (!ENDPOINTS.includes(endpoint))
      return invalidRequest(`Invalid value for 'endpoint': ${endpoint}.`, 'endpoint');
    if (body.completion_window !== '24h')
      return invalidRequest("Invalid value for 'completion_window'.", 'completion_window');
    const inputId = String(body.input_file_id ?? '');
    const input = state.batches.files.get(inputId);
    if (input?.bytes === undefined || input.owner !== key || input.purpose !== 'batch') {
      return notFound('file', inputId);
    }
    const metadata = (body.metadata ?? {}) as Record<string, unknown>;
    const entries = Object.entries(metadata);
    if (
      entries.length > 16 ||
      entries.some(([k, v]) => typeof v !== 'string' || k.length > 64 || v.length > 512)
    ) {
      return invalidRequest(
        'metadata: at most 16 string pairs, keys ≤ 64 and values ≤ 512 characters.',
        'metadata',
      );
    }
    const read = readInput(state, input.bytes, endpoint, key);
    const job: SimJob = {
      id: `batch_${newId()}`,
      provider: 'openai',
      owner: key,
      model: 'lines' in read ? (read.lines[0]?.model ?? '') : '',
      displayName: '',
      metadata: metadata as Record<string, string>,
      endpoint,
      inputFileId: inputId,
      lines: 'lines' in read ? read.lines : [],
      serial: state.batches.nextSerial++,
      createdAt: state.now(),
      createdWall: Date.now(),
      timing: { ...state.config.batch },
      ...('failure' in read ? { failure: read.failure } : {}),
    };
    state.batches.jobs.set(job.id, job);
    // The job exists; the answer is lost (the caller must find it by listing).
    if (state.rng() < state.config.batch.createLostRate) return unavailable();
    return json(batchObject(state, job), 200);
  });

  app.get('/v1/batches', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const limit = Math.min(100, Math.max(1, Number(c.req.query('limit') ?? 20) || 20));
    const after = c.req.query('after');
    let list = jobsOf(state.batches, 'openai', key);
    if (after !== undefined) list = list.slice(list.findIndex((j) => j.id === after) + 1);
    const page = list.slice(0, limit);
    return json(
      {
        object: 'list',
        data: page.map((j) => batchObject(state, j)),
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
        has_more: list.length > limit,
      },
      200,
    );
  });

  app.get('/v1/batches/:id', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const job = ownJob(state, c.req.param('id'), key);
    return job === undefined ? notFound('batch', c.req.param('id')) : json(batchObject(state, job), 200);
  });

  app.post('/v1/batches/:id/cancel', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const job = ownJob(state, c.req.param('id'), key);
    if (job === undefined) return notFound('batch', c.req.param('id'));
    const p = progressOf(job, state.now());
    if (isEnded(p) && p.phase !== 'cancelled') {
      return openaiError(409, {
        message: `Cannot cancel a batch with status '${STATUS[p.phase]}'.`,
        type: 'invalid_request_error',
      });
    }
    job.cancelledAt ??= state.now();
    return json(batchObject(state, job), 200);
  });
}
