// OpenAI Images: `POST /v1/images/generations` (JSON) and `/v1/images/edits` (multipart), §4.
import { randomBytes } from 'node:crypto';
import { goDuration } from './durations.js';
import type { Grant } from './limits.js';
import {
  type Dims,
  type OpenAIModel,
  openaiDims,
  openaiModel,
  openaiOutputTokens,
  sizeDirective,
  textTokens,
} from './models.js';
import {
  type FormatSpec,
  json,
  nextImage,
  type ParseError,
  type RequestInfo,
  type SimContext,
} from './pipeline.js';
import type { SimState } from './state.js';

interface ImagesReq extends RequestInfo {
  om: OpenAIModel;
  n: number;
  dims: Dims;
  quality: string;
  refs: number;
  requestId: string;
}

type Fields = Record<string, unknown>;

/** Every OpenAI response carries a request id; errors quote it. */
const newRequestId = (): string => `req_${randomBytes(16).toString('hex')}`;

function baseHeaders(requestId: string): Record<string, string> {
  return { 'x-request-id': requestId, 'openai-version': '2020-10-01', 'openai-processing-ms': '1' };
}

export function openaiError(
  status: number,
  error: { message: string; type: string; param?: string | null; code?: string | null },
  headers: Record<string, string> = {},
  requestId = newRequestId(),
  extra: Fields = {},
): Response {
  return json(
    {
      error: {
        message: error.message,
        type: error.type,
        param: error.param ?? null,
        code: error.code ?? null,
        ...extra,
      },
    },
    status,
    { ...baseHeaders(requestId), ...headers },
  );
}

const bad = (message: string, param: string | null, code: string | null, model?: string): ParseError => ({
  error: openaiError(400, { message, type: 'invalid_request_error', param, code }),
  model,
});

export function bearerKey(c: SimContext): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim() || undefined;
}

export const openaiMissingKey = (): Response =>
  openaiError(401, {
    message:
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    type: 'invalid_request_error',
  });

/** What OpenAI answers a key it does not accept (revoked, deleted or mistyped): the key shown masked. */
export const openaiRevokedKey = (key: string): Response =>
  openaiError(401, {
    message: `Incorrect API key provided: ${key.slice(0, 3)}*********${key.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    type: 'invalid_request_error',
    code: 'invalid_api_key',
  });

async function readFields(
  c: SimContext,
  edit: boolean,
): Promise<{ fields: Fields; refs: number } | ParseError> {
  if (!edit) {
    try {
      const body = await c.req.json();
      if (typeof body !== 'object' || body === null) throw new Error('not an object');
      return { fields: body as Fields, refs: 0 };
    } catch {
      return bad(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        null,
        null,
      );
    }
  }
  if (!(c.req.header('content-type') ?? '').includes('multipart/form-data')) {
    return bad('Invalid Content-Type header, expected multipart/form-data.', null, null);
  }
  const form = await c.req.parseBody({ all: true });
  const images = [form['image[]'], form.image].flat().filter((v): v is File => v instanceof File);
  if (images.length === 0)
    return bad("Missing required parameter: 'image'.", 'image', 'missing_required_parameter');
  if (images.length > 16)
    return bad(`Too many images: ${images.length}. At most 16 are allowed.`, 'image', 'invalid_value');
  const fields: Fields = {};
  for (const [k, v] of Object.entries(form)) if (typeof v === 'string') fields[k] = v;
  return { fields, refs: images.length };
}

async function parse(c: SimContext, edit: boolean, key: string): Promise<ImagesReq | ParseError> {
  const read = await readFields(c, edit);
  if ('error' in read) return read;
  const { fields, refs } = read;
  // Older API versions defaulted to dall-e-2, which is retired: always send the model.
  const model = typeof fields.model === 'string' ? fields.model : 'dall-e-2';
  const { prompt } = fields;
  if (typeof prompt !== 'string' || prompt.length === 0) {
    return bad("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter', model);
  }
  if (prompt.length > 32_000) {
    return bad(
      `Invalid 'prompt': string too long. Expected a string with maximum length 32000, but got a string with length ${prompt.length} instead.`,
      'prompt',
      'string_above_max_length',
      model,
    );
  }
  const om = openaiModel(model);
  if (!om) {
    return {
      error: openaiError(404, {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        code: 'model_not_found',
      }),
      model,
    };
  }
  const n = fields.n === undefined ? 1 : Number(fields.n);
  if (!Number.isInteger(n) || n < 1 || n > 10) {
    return bad(
      `Invalid 'n': expected an integer between 1 and 10, but got ${String(fields.n)} instead.`,
      'n',
      'invalid_value',
      model,
    );
  }
  const size = fields.size === undefined ? 'auto' : String(fields.size);
  const dims = openaiDims(om, size);
  if (typeof dims === 'string') return bad(dims, 'size', 'invalid_value', model);
  const quality = fields.quality === undefined ? 'auto' : String(fields.quality);
  if (!om.qualities.includes(quality)) {
    return bad(
      `Invalid value: '${quality}'. Supported values are: ${om.qualities.map((q) => `'${q}'`).join(', ')}.`,
      'quality',
      'invalid_value',
      model,
    );
  }
  const format = fields.output_format === undefined ? 'png' : String(fields.output_format);
  if (!['png', 'jpeg', 'webp'].includes(format)) {
    return bad(
      `Invalid value: '${format}'. Supported values are: 'png', 'jpeg', and 'webp'.`,
      'output_format',
      'invalid_value',
      model,
    );
  }
  if (edit && fields.input_fidelity !== undefined && !om.inputFidelity) {
    return bad(
      `input_fidelity is not supported for model ${model}.`,
      'input_fidelity',
      'unsupported_parameter',
      model,
    );
  }
  return {
    key,
    model,
    prompt,
    om,
    n,
    dims: sizeDirective(prompt) ?? dims,
    quality: quality === 'auto' ? 'medium' : quality,
    refs,
    requestId: newRequestId(),
  };
}

function rateHeaders(grant: Grant): Record<string, string> {
  if (!grant.rpm) return {};
  return {
    'x-ratelimit-limit-requests': String(grant.rpm.limit),
    'x-ratelimit-remaining-requests': String(grant.rpm.remaining),
    'x-ratelimit-reset-requests': goDuration(grant.rpm.resetMs),
  };
}

function body(p: ImagesReq, data: Array<{ b64_json: string }>) {
  const text = textTokens(p.prompt);
  const image = p.refs * 323;
  const out = data.length * openaiOutputTokens(p.quality, p.dims);
  return {
    created: Math.floor(Date.now() / 1000),
    background: 'opaque',
    data,
    // Bytes are always PNG whatever output_format asked for, so report png.
    output_format: 'png',
    quality: p.quality,
    size: `${p.dims.width}x${p.dims.height}`,
    usage: {
      input_tokens: text + image,
      input_tokens_details: { text_tokens: text, image_tokens: image },
      output_tokens: out,
      output_tokens_details: { image_tokens: out, text_tokens: 0 },
      total_tokens: text + image + out,
    },
  };
}

export function openaiImagesFormat(state: SimState, edit: boolean): FormatSpec<ImagesReq> {
  return {
    apiKey: bearerKey,
    missingKey: openaiMissingKey,
    revoked: (c) => openaiRevokedKey(bearerKey(c) ?? ''),
    depleted: () =>
      openaiError(429, {
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      }),
    parse: (c, key) => parse(c, edit, key),
    rateLimited: (_c, p, d) => {
      const wait = (d.retryAfterMs / 1000).toFixed(3).replace(/\.?0+$/, '');
      const message =
        d.kind === 'rpm'
          ? `Rate limit reached for ${p.model} in organization org-sim on requests per min (RPM): Limit ${d.limit}, Used ${d.limit}, Requested 1. Please try again in ${wait}s. Visit https://platform.openai.com/account/rate-limits to learn more.`
          : `Too many concurrent requests for ${p.model} in organization org-sim: Limit ${d.limit}. Please try again in ${wait}s.`;
      const headers: Record<string, string> = {
        'retry-after-ms': String(d.retryAfterMs),
        'retry-after': String(Math.max(1, Math.ceil(d.retryAfterMs / 1000))),
      };
      if (d.kind === 'rpm') {
        headers['x-ratelimit-limit-requests'] = String(d.limit);
        headers['x-ratelimit-remaining-requests'] = '0';
        headers['x-ratelimit-reset-requests'] = goDuration(d.retryAfterMs);
      }
      return openaiError(
        429,
        { message, type: 'requests', code: 'rate_limit_exceeded' },
        headers,
        p.requestId,
      );
    },
    serverError: (_c, p) =>
      openaiError(
        500,
        {
          message: `The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if the error persists. (Please include the request ID ${p.requestId} in your message.)`,
          type: 'server_error',
        },
        {},
        p.requestId,
      ),
    // The real API has no "200 without image"; an empty data[] checks defensive parsing.
    noImage: (_c, p) => json(body(p, []), 200, baseHeaders(p.requestId)),
    blocked: (_c, p, wordIndex) =>
      openaiError(
        400,
        {
          message: `Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID ${p.requestId}.`,
          type: 'image_generation_user_error',
          param: null,
          code: 'moderation_blocked',
        },
        {},
        p.requestId,
        { moderation_details: { categories: [wordIndex % 2 === 0 ? 'illicit' : 'sexual'] } },
      ),
    success: (_c, p, grant) => {
      const data = Array.from({ length: p.n }, () => ({
        b64_json: nextImage(state, p.dims.width, p.dims.height, p.prompt).toString('base64'),
      }));
      const headers = { ...baseHeaders(p.requestId), ...rateHeaders(grant) };
      return { response: json(body(p, data), 200, headers), images: p.n };
    },
  };
}
