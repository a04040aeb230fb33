// OpenAI-compatible chat image output, OpenRouter and proxy styles (providers.md §5).
import { randomBytes } from 'node:crypto';
import { retryAfterSeconds } from './durations.js';
import {
  type GeminiModel,
  type GeminiSize,
  geminiDims,
  geminiModel,
  nearestRatio,
  sizeDirective,
  textTokens,
} from './models.js';
import { bearerKey } from './openai-images.js';
import {
  type FormatSpec,
  json,
  nextImage,
  type ParseError,
  type RequestInfo,
  type SimContext,
  storeFile,
} from './pipeline.js';
import { pngSize } from './png.js';
import { MAX_STORED_FILES, type SimState } from './state.js';

type ChatStyle = 'images' | 'markdown' | 'url';
const STYLES: ChatStyle[] = ['images', 'markdown', 'url'];

interface ChatReq extends RequestInfo {
  gm: GeminiModel;
  style: ChatStyle;
  ratio: string;
  size: GeminiSize;
  refs: number;
  wantImage: boolean;
}

function routerError(status: number, message: string, metadata?: unknown, headers?: Record<string, string>) {
  return json(
    { error: { code: status, message, ...(metadata !== undefined && { metadata }) } },
    status,
    headers,
  );
}

const bad = (message: string, model?: string): ParseError => ({
  error: routerError(400, message, { provider_name: 'Google' }),
  model,
});

/** Image size spellings: OpenRouter's 0.5K/1K/2K/4K, the native "512", or a model suffix. */
function sizeTier(v: string): GeminiSize | undefined {
  const s = v.toUpperCase();
  if (s === '0.5K' || s === '512') return '512';
  return s === '1K' || s === '2K' || s === '4K' ? s : undefined;
}

/**
 * Proxies put options in the model id: `google/gemini-3-pro-image-preview-4k-markdown`.
 * The sim strips a style suffix, a size suffix, the vendor prefix and `-preview`.
 */
function resolveChatModel(raw: string) {
  let id = raw;
  let style: ChatStyle | undefined;
  const sm = /-(images|markdown|url)$/.exec(id);
  if (sm) {
    style = sm[1] as ChatStyle;
    id = id.slice(0, sm.index);
  }
  let size: GeminiSize | undefined;
  const zm = /-(0\.5k|1k|2k|4k)$/i.exec(id);
  if (zm?.[1]) {
    size = sizeTier(zm[1]);
    id = id.slice(0, zm.index);
  }
  id = id.slice(id.lastIndexOf('/') + 1).replace(/-preview$/, '');
  const gm = geminiModel(id);
  return gm && { gm, style, size };
}

interface ContentPart {
  type?: string;
  text?: unknown;
  image_url?: { url?: unknown } | string;
}

type Msg = { role?: string; content?: unknown };

function readPrompt(messages: Msg[]): { prompt: string; refs: number; refAspect?: number } {
  const user = [...messages].reverse().find((m) => m?.role === 'user') ?? messages[messages.length - 1];
  if (typeof user?.content === 'string') return { prompt: user.content, refs: 0 };
  const texts: string[] = [];
  let refs = 0;
  let refAspect: number | undefined;
  for (const part of Array.isArray(user?.content) ? (user.content as ContentPart[]) : []) {
    if (typeof part?.text === 'string') texts.push(part.text);
    if (part?.type === 'image_url' || part?.image_url) {
      refs++;
      const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
      const b64 = typeof url === 'string' ? /^data:[^;]+;base64,(.{0,64})/.exec(url)?.[1] : undefined;
      const dims = b64 && refAspect === undefined ? pngSize(Buffer.from(b64, 'base64')) : undefined;
      if (dims) refAspect = dims.width / dims.height;
    }
  }
  return { prompt: texts.join('\n'), refs, refAspect };
}

async function parse(c: SimContext, key: string): Promise<ChatReq | ParseError> {
  let body: Record<string, unknown>;
  try {
    body = await c.req.json();
    if (typeof body !== 'object' || body === null) throw new Error('not an object');
  } catch {
    return bad('Invalid JSON in request body');
  }
  const model = body.model;
  if (typeof model !== 'string' || !model) return bad('No models provided');
  const resolved = resolveChatModel(model);
  if (!resolved) return bad(`${model} is not a valid model ID`, model);
  const { gm } = resolved;
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return bad('Input required: messages', model);
  const { prompt, refs, refAspect } = readPrompt(body.messages as Msg[]);

  const header = c.req.header('x-sim-chat-style') as ChatStyle | undefined;
  if (header && !STYLES.includes(header))
    return bad(`x-sim-chat-style must be one of ${STYLES.join(', ')}`, model);
  const nested = (body.google ?? (body.extra_body as Record<string, unknown> | undefined)?.google) as
    | Record<string, unknown>
    | undefined;
  const cfg = (body.image_config ?? nested?.image_config ?? {}) as Record<string, unknown>;
  const ratio = cfg.aspect_ratio === undefined ? undefined : String(cfg.aspect_ratio);
  if (ratio !== undefined && !gm.ratios.includes(ratio)) {
    return bad(`Unsupported aspect_ratio "${ratio}" for ${model}. Supported: ${gm.ratios.join(', ')}`, model);
  }
  const size = cfg.image_size === undefined ? resolved.size : sizeTier(String(cfg.image_size));
  if (size === undefined ? cfg.image_size !== undefined : !gm.sizes.includes(size)) {
    return bad(`Unsupported image_size "${String(cfg.image_size ?? size)}" for ${model}.`, model);
  }
  const modalities = body.modalities;
  return {
    key,
    model,
    prompt,
    gm,
    style: header ?? resolved.style ?? 'images',
    ratio: ratio ?? (refAspect === undefined ? '1:1' : nearestRatio(gm.ratios, refAspect)),
    size: size ?? '1K',
    refs,
    wantImage: !Array.isArray(modalities) || modalities.includes('image'),
  };
}

function completion(
  p: ChatReq,
  content: string,
  extra: Record<string, unknown>,
  imageTokens: number,
  native = 'STOP',
) {
  const promptTokens = textTokens(p.prompt) + p.refs * p.gm.inputImageTokens;
  const completionTokens = imageTokens + textTokens(content);
  return {
    id: `gen-${Math.floor(Date.now() / 1000)}-${randomBytes(10).toString('hex')}`,
    provider: 'Google',
    model: p.model,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    choices: [
      {
        logprobs: null,
        finish_reason: 'stop',
        native_finish_reason: native,
        index: 0,
        message: { role: 'assistant', content, refusal: null, reasoning: null, ...extra },
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

export function openaiChatFormat(state: SimState): FormatSpec<ChatReq> {
  return {
    apiKey: bearerKey,
    missingKey: () => routerError(401, 'No auth credentials found'),
    // OpenRouter's answer to a deleted or disabled key.
    revoked: () => routerError(401, 'User not found.'),
    depleted: () =>
      routerError(
        402,
        'Insufficient credits. This account never purchased credits or has run out. Add more at https://openrouter.ai/settings/credits',
      ),
    parse,
    rateLimited: (_c, p, d) => {
      const kind = d.kind === 'rpm' ? 'requests per minute' : 'concurrent requests';
      return routerError(
        429,
        `Rate limit exceeded: ${kind} for ${p.model} (limit ${d.limit}).`,
        {
          headers: {
            'X-RateLimit-Limit': String(d.limit),
            'X-RateLimit-Remaining': '0',
            'X-RateLimit-Reset': String(Date.now() + d.retryAfterMs),
          },
        },
        { 'retry-after': retryAfterSeconds(d.retryAfterMs) },
      );
    },
    serverError: (_c, p, variant) =>
      variant < 0.5
        ? routerError(502, 'Provider returned error', {
            provider_name: 'Google',
            raw: '{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}',
          })
        : routerError(
            503,
            `No available provider for ${p.model} that meets your routing requirements.`,
            { provider_name: null },
            { 'retry-after': '2' },
          ),
    noImage: (_c, p, variant) => {
      const native = variant < 0.5 ? 'NO_IMAGE' : 'STOP';
      return json(completion(p, 'I could not produce an image for this request.', {}, 0, native), 200);
    },
    blocked: (_c, p, wordIndex) =>
      routerError(403, 'Your chosen model requires moderation and your input was flagged', {
        reasons: [wordIndex % 2 === 0 ? 'illicit' : 'sexual'],
        flagged_input: p.prompt.slice(0, 100),
        provider_name: 'Google',
        model_slug: p.model,
      }),
    success: (c, p) => {
      if (!p.wantImage) {
        return {
          response: json(completion(p, 'modalities did not include "image"; text only.', {}, 0), 200),
          images: 0,
        };
      }
      const dims = sizeDirective(p.prompt) ?? geminiDims(p.gm, p.ratio, p.size);
      const png = nextImage(state, dims.width, dims.height, p.prompt);
      const tokens = p.gm.tokens[p.size] ?? 1120;
      const dataUrl = `data:image/png;base64,${png.toString('base64')}`;
      let body: unknown;
      if (p.style === 'images') {
        const images = [{ type: 'image_url', image_url: { url: dataUrl }, index: 0 }];
        body = completion(p, 'Here is your image.', { images }, tokens);
      } else if (p.style === 'markdown') {
        body = completion(p, `Here is your image.\n\n![image](${dataUrl})`, {}, tokens);
      } else {
        const id = storeFile(state, png, MAX_STORED_FILES);
        const url = `${new URL(c.req.url).origin}/__files/${id}.png`;
        body = completion(p, `Here is your image.\n\n![image](${url})`, {}, tokens);
      }
      return { response: json(body, 200), images: 1 };
    },
  };
}
