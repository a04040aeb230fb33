/**
 * @module Gemini's Files and Batch APIs (providers.md §3): resumable upload to
 * `POST /upload/v1beta/files`, `GET /v1beta/files/{id}`, download of a file's bytes
 * (`GET /download/v1beta/files/{id}:download?alt=media`, also without the `/download` prefix),
 * `POST /v1beta/models/{model}:batchGenerateContent` with a JSONL file (`{"key","request"}` lines),
 * `GET /v1beta/batches[/{id}]`, `POST /v1beta/batches/{id}:cancel`. A job answers as an Operation
 * whose metadata is the GenerateContentBatch; its results file holds one line per finished request,
 * in input order, also for an expired or cancelled job (what finished before it ended).
 */
import type { Hono } from 'hono';
import { geminiKey, geminiMissingKey, geminiNotFound, geminiRevokedKey } from '../gemini.js';
import { type GeminiSize, geminiDims, geminiModel, sizeDirective } from '../models.js';
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

const STATE: Record<Progress['phase'], string> = {
  validating: 'BATCH_STATE_PENDING',
  running: 'BATCH_STATE_RUNNING',
  completed: 'BATCH_STATE_SUCCEEDED',
  expired: 'BATCH_STATE_EXPIRED',
  cancelled: 'BATCH_STATE_CANCELLED',
  failed: 'BATCH_STATE_FAILED',
};

const TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch';

const gError = (code: number, status: string, message: string) =>
  json({ error: { code, message, status } }, code);
const invalid = (message: string) => gError(400, 'INVALID_ARGUMENT', message);
const notFound = (name: string) => gError(404, 'NOT_FOUND', `Requested entity was not found: ${name}`);
const unavailable = () => gError(503, 'UNAVAILABLE', 'The service is currently unavailable.');

function auth(state: SimState, c: SimContext): string | Response {
  const key = geminiKey(c);
  if (key === undefined) return geminiMissingKey();
  if (state.config.revokedKeys.includes(key)) return geminiRevokedKey();
  if (drawsOutage(state)) return unavailable();
  return key;
}

const iso = (ms: number) => new Date(ms).toISOString();

function fileResource(f: SimFile, origin: string) {
  return {
    name: f.id,
    displayName: f.filename,
    mimeType: 'application/jsonl',
    ...(f.bytes === undefined ? {} : { sizeBytes: String(f.bytes.length) }),
    createTime: iso(f.createdAt * 1000),
    updateTime: iso(f.createdAt * 1000),
    state: 'ACTIVE',
    uri: `${origin}/v1beta/${f.id}`,
    source: f.purpose === 'batch' ? 'UPLOADED' : 'GENERATED',
  };
}

/** The text of a request's parts and its image settings, checked like generateContent does. */
function parseLine(state: SimState, model: string, raw: Record<string, unknown>, index: number): SimLine {
  const key = typeof raw.key === 'string' ? raw.key : String(index);
  const request = (raw.request ?? {}) as Record<string, unknown>;
  const contents = Array.isArray(request.contents) ? (request.contents as Array<{ parts?: unknown }>) : [];
  const texts: string[] = [];
  let references = 0;
  let badReference = false;
  for (const content of contents) {
    for (const part of Array.isArray(content?.parts)
      ? (content.parts as Array<Record<string, unknown>>)
      : []) {
      if (typeof part?.text === 'string') texts.push(part.text);
      const inline = part?.inlineData as Record<string, unknown> | undefined;
      if (inline !== undefined) {
        references++;
        if (typeof inline.data !== 'string' || inline.data === '') badReference = true;
      }
    }
  }
  const prompt = texts.join('\n');
  const refuse = (message: string): SimLine => ({
    key,
    prompt,
    model,
    references,
    outcome: { kind: 'invalid', status: 400, error: { code: 400, message, status: 'INVALID_ARGUMENT' } },
  });
  const gm = geminiModel(model)!;
  if (prompt === '') return refuse('* GenerateContentRequest.contents: contents is not specified\n');
  if (badReference) return refuse('* inlineData.data: required base64 string\n');
  const gen = (request.generationConfig ?? {}) as Record<string, unknown>;
  const imageConfig = (gen.imageConfig ?? {}) as Record<string, unknown>;
  const ratio = imageConfig.aspectRatio === undefined ? '1:1' : String(imageConfig.aspectRatio);
  const size = (imageConfig.imageSize === undefined ? '1K' : String(imageConfig.imageSize)) as GeminiSize;
  if (!gm.ratios.includes(ratio))
    return refuse(`* image_config.aspect_ratio: unsupported aspect ratio "${ratio}"\n`);
  if (!gm.sizes.includes(size))
    return refuse(`* image_config.image_size: unsupported image size "${size}"\n`);
  const dims = sizeDirective(prompt) ?? geminiDims(gm, ratio, size);
  return { key, prompt, model, references, outcome: drawLine(state, prompt, { ...dims, n: 1 }) };
}

function resultLine(job: SimJob, index: number): string {
  const line = job.lines[index]!;
  const o = line.outcome;
  const usage = {
    promptTokenCount: 12,
    candidatesTokenCount: o.kind === 'image' ? 1120 : 0,
    totalTokenCount: 12,
  };
  const respond = (response: Record<string, unknown>) =>
    JSON.stringify({
      key: line.key,
      response: { ...response, usageMetadata: usage, modelVersion: job.model },
    });
  switch (o.kind) {
    case 'image': {
      const data = lineImage(job, index, 0).toString('base64');
      const parts = [
        { text: 'Here is the image you asked for.' },
        { inlineData: { mimeType: 'image/png', data } },
      ];
      return respond({ candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }] });
    }
    case 'blocked':
      // Even-indexed words block the prompt; odd-indexed ones filter the image (as generateContent).
      return o.wordIndex % 2 === 0
        ? respond({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } })
        : respond({ candidates: [{ finishReason: 'IMAGE_SAFETY', index: 0 }] });
    case 'serverError':
      return JSON.stringify({
        key: line.key,
        error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' },
      });
    case 'invalid':
      return JSON.stringify({ key: line.key, error: o.error });
  }
}

function finalize(state: SimState, job: SimJob, p: Progress): void {
  if (!isEnded(p) || job.outputFileId !== undefined) return;
  job.outputFileId = null;
  if (job.failure !== undefined) return;
  const id = `files/batch-${newId(8)}`;
  const done = p.done;
  state.batches.files.set(id, {
    id,
    owner: job.owner,
    filename: `${job.id}-responses.jsonl`,
    purpose: 'batch_output',
    createdAt: Math.floor(Date.now() / 1000),
    *lines() {
      for (let i = 0; i < done; i++) yield resultLine(job, i);
    },
  });
  job.outputFileId = id;
}

function operation(state: SimState, job: SimJob) {
  const p = progressOf(job, state.now());
  finalize(state, job, p);
  const wall = (t: number) => iso(job.createdWall + (t - job.createdAt));
  const failed = job.lines.slice(0, p.done).filter((l) => l.outcome.kind !== 'image').length;
  const output = job.outputFileId ? { responsesFile: job.outputFileId } : undefined;
  const ended = isEnded(p);
  const metadata = {
    '@type': TYPE,
    model: `models/${job.model}`,
    displayName: job.displayName,
    name: job.id,
    inputConfig: { fileName: job.inputFileId },
    createTime: iso(job.createdWall),
    updateTime: wall(p.endedAt ?? state.now()),
    ...(ended ? { endTime: wall(p.endedAt!) } : {}),
    batchStats: {
      requestCount: String(job.lines.length),
      successfulRequestCount: String(p.done - failed),
      failedRequestCount: String(failed),
      pendingRequestCount: String(job.lines.length - p.done),
    },
    state: STATE[p.phase],
    ...(output ? { output } : {}),
  };
  return {
    name: job.id,
    metadata,
    done: ended,
    ...(job.failure ? { error: { code: 400, message: job.failure.message } } : {}),
    ...(ended && output ? { response: { '@type': `${TYPE}Output`, ...output } } : {}),
  };
}

function ownJob(state: SimState, name: string, key: string): SimJob | undefined {
  const job = state.batches.jobs.get(name);
  return job !== undefined && job.provider === 'gemini' && job.owner === key ? job : undefined;
}

/** `POST /v1beta/models/{model}:batchGenerateContent`, reached from the models route. */
export async function createGeminiBatch(state: SimState, c: SimContext, model: string): Promise<Response> {
  const key = auth(state, c);
  if (typeof key !== 'string') return key;
  if (state.config.depletedKeys.includes(key)) {
    return gError(429, 'RESOURCE_EXHAUSTED', 'Your prepayment credits are depleted.');
  }
  if (geminiModel(model) === undefined) return geminiNotFound(model, 'batchGenerateContent');
  let body: Record<string, unknown>;
  try {
    body = (await c.req.json()) as Record<string, unknown>;
  } catch {
    return invalid('Invalid JSON payload received.');
  }
  const batch = (body.batch ?? {}) as Record<string, unknown>;
  const displayName = batch.displayName ?? batch.display_name;
  const inputConfig = (batch.inputConfig ?? batch.input_config ?? {}) as Record<string, unknown>;
  const fileName = inputConfig.fileName ?? inputConfig.file_name;
  if (typeof displayName !== 'string' || displayName === '')
    return invalid('* batch.display_name: required\n');
  if (displayName.length > 512) return invalid('* batch.display_name: at most 512 characters\n');
  if (typeof fileName !== 'string') {
    return gError(501, 'UNIMPLEMENTED', 'provider-sim simulates file input only (inputConfig.fileName).');
  }
  const input = state.batches.files.get(fileName);
  if (input?.bytes === undefined || input.owner !== key) return notFound(fileName);
  const lines: SimLine[] = [];
  let failure: SimJob['failure'];
  for (const [i, text] of jsonlLines(input.bytes).entries()) {
    try {
      lines.push(parseLine(state, model, JSON.parse(text) as Record<string, unknown>, i));
    } catch {
      failure = { code: 'INVALID_ARGUMENT', message: `Line ${i + 1} of ${fileName} is not valid JSON.` };
      break;
    }
  }
  const job: SimJob = {
    id: `batches/${newId(10)}`,
    provider: 'gemini',
    owner: key,
    model,
    displayName,
    metadata: {},
    endpoint: 'batchGenerateContent',
    inputFileId: fileName,
    lines: failure ? [] : lines,
    serial: state.batches.nextSerial++,
    createdAt: state.now(),
    createdWall: Date.now(),
    timing: { ...state.config.batch },
    ...(failure ? { failure } : {}),
  };
  state.batches.jobs.set(job.id, job);
  if (state.rng() < state.config.batch.createLostRate) return unavailable();
  return json(operation(state, job), 200);
}

export function registerGeminiBatch(app: Hono<SimEnv>, state: SimState): void {
  /** Open uploads: upload id → who started it, its display name and the bytes so far. */
  const open = new Map<string, { owner: string; displayName: string; chunks: Buffer[] }>();

  // Resumable upload (what @google/genai does): a start, then chunks, the last with "finalize".
  app.post('/upload/v1beta/files', async (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const command = (c.req.header('x-goog-upload-command') ?? '').toLowerCase();
    const uploadId = c.req.query('upload_id');
    if (uploadId === undefined) {
      if (c.req.header('x-goog-upload-protocol') !== 'resumable' || command !== 'start') {
        return invalid(
          'provider-sim: use the resumable protocol (X-Goog-Upload-Protocol: resumable, command start).',
        );
      }
      const meta = ((await c.req.json().catch(() => ({}))) ?? {}) as {
        file?: { displayName?: string; display_name?: string };
      };
      const id = newId(10);
      open.set(id, {
        owner: key,
        displayName: meta.file?.displayName ?? meta.file?.display_name ?? id,
        chunks: [],
      });
      const origin = new URL(c.req.url).origin;
      return new Response(null, {
        status: 200,
        headers: {
          'x-goog-upload-url': `${origin}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`,
          'x-goog-upload-status': 'active',
        },
      });
    }
    const upload = open.get(uploadId);
    if (upload === undefined || upload.owner !== key) return notFound(`upload ${uploadId}`);
    const offset = Number(c.req.header('x-goog-upload-offset') ?? '0');
    const have = upload.chunks.reduce((n, b) => n + b.length, 0);
    if (offset !== have) return invalid(`Upload offset ${offset} does not match the ${have} bytes received.`);
    upload.chunks.push(Buffer.from(await c.req.arrayBuffer()));
    if (!command.includes('finalize')) {
      return new Response(null, { status: 200, headers: { 'x-goog-upload-status': 'active' } });
    }
    open.delete(uploadId);
    const file: SimFile = {
      id: `files/${newId(8)}`,
      owner: key,
      filename: upload.displayName,
      purpose: 'batch',
      createdAt: Math.floor(Date.now() / 1000),
      bytes: Buffer.concat(upload.chunks),
    };
    state.batches.files.set(file.id, file);
    const origin = new URL(c.req.url).origin;
    return json({ file: fileResource(file, origin) }, 200, { 'x-goog-upload-status': 'final' });
  });

  const serveFile = (c: SimContext, rest: string) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const download = rest.endsWith(':download');
    const name = `files/${download ? rest.slice(0, -':download'.length) : rest}`;
    const f = state.batches.files.get(name);
    if (f === undefined || f.owner !== key) return notFound(name);
    if (!download) return json(fileResource(f, new URL(c.req.url).origin), 200);
    return new Response(fileBody(f), { headers: { 'content-type': 'application/octet-stream' } });
  };
  app.get('/v1beta/files/*', (c) => serveFile(c, c.req.path.slice('/v1beta/files/'.length)));
  app.get('/download/v1beta/files/*', (c) =>
    serveFile(c, c.req.path.slice('/download/v1beta/files/'.length)),
  );

  app.get('/v1beta/batches', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const size = Math.min(1000, Math.max(1, Number(c.req.query('pageSize') ?? 50) || 50));
    const start = Number(c.req.query('pageToken') ?? 0) || 0;
    const all = jobsOf(state.batches, 'gemini', key);
    const page = all.slice(start, start + size);
    return json(
      {
        operations: page.map((j) => operation(state, j)),
        ...(start + size < all.length ? { nextPageToken: String(start + size) } : {}),
      },
      200,
    );
  });

  app.get('/v1beta/batches/*', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const name = c.req.path.slice('/v1beta/'.length);
    const job = ownJob(state, name, key);
    return job === undefined ? notFound(name) : json(operation(state, job), 200);
  });

  app.post('/v1beta/batches/*', (c) => {
    const key = auth(state, c);
    if (typeof key !== 'string') return key;
    const rest = c.req.path.slice('/v1beta/'.length);
    if (!rest.endsWith(':cancel'))
      return gError(404, 'NOT_FOUND', `provider-sim: no route POST ${c.req.path}`);
    const name = rest.slice(0, -':cancel'.length);
    const job = ownJob(state, name, key);
    if (job === undefined) return notFound(name);
    const p = progressOf(job, state.now());
    if (isEnded(p) && p.phase !== 'cancelled') {
      return gError(400, 'FAILED_PRECONDITION', `Batch ${name} has already ended (${STATE[p.phase]}).`);
    }
    job.cancelledAt ??= state.now();
    return json({}, 200);
  });
}
