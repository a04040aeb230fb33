// Gemini native `POST /v1beta/models/{model}:generateContent` (providers.md §2).
import { randomBytes } from 'node:crypto';
import { googleDuration } from './durations.js';
import {
  type GeminiModel,
  type GeminiSize,
  geminiDims,
  geminiModel,
  nearestRatio,
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
import { makePng, pngSize } from './png.js';
import type { SimState } from './state.js';

const PREFIX = '/v1beta/models/';

interface GeminiReq extends RequestInfo {
  gm: GeminiModel;
  ratio: string;
  size: GeminiSize;
  refs: number;
  wantImage: boolean;
}

function geminiError(code: number, status: string, message: string, details?: unknown[]): Response {
  return json({ error: { code, message, status, ...(details && { details }) } }, code);
}

const invalid = (message: string, model?: string): ParseError => ({
  error: geminiError(400, 'INVALID_ARGUMENT', message),
  model,
});

/** x-goog-api-key (what @google/genai sends), ?key=, or Bearer (some proxies' native path). */
export function geminiKey(c: SimContext): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  return c.req.header('x-goog-api-key') || c.req.query('key') || bearer || undefined;
}

/** What Google answers a call without any key. */
export const geminiMissingKey = (): Response =>
  geminiError(
    403,
    'PERMISSION_DENIED',
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  );

/** What Google answers a key it does not accept (revoked, deleted or mistyped). */
export const geminiRevokedKey = (): Response =>
  geminiError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ]);

export const geminiNotFound = (model: string, method = 'generateContent'): Response =>
  geminiError(
    404,
    'NOT_FOUND',
    `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  );

interface Part {
  text?: unknown;
  inlineData?: { data?: unknown };
  fileData?: unknown;
}

async function parse(c: SimContext): Promise<GeminiReq | ParseError> {
  let rest: string;
  try {
    rest = decodeURIComponent(c.req.path.slice(PREFIX.length));
  } catch {
    return invalid('Invalid resource name: bad percent-encoding in the path.');
  }
  const colon = rest.lastIndexOf(':');
  const model = colon < 0 ? rest : rest.slice(0, colon);
  const method = colon < 0 ? '' : rest.slice(colon + 1);
  const gm = geminiModel(model);
  if (!gm) return { error: geminiNotFound(model, method), model };
  if (method !== 'generateContent') {
    // Real methods like streamGenerateContent exist upstream; say plainly the sim lacks them.
    const error = geminiError(
      501,
      'UNIMPLEMENTED',
      `provider-sim does not simulate models.${method || '(none)'}.`,
    );
    return { error, model };
  }

  let body: { contents?: unknown; generationConfig?: Record<string, unknown> };
  try {
    body = await c.req.json();
  } catch {
    return invalid('Invalid JSON payload received. Unexpected token.', model);
  }
  if (!Array.isArray(body?.contents) || body.contents.length === 0) {
    return invalid('* GenerateContentRequest.contents: contents is not specified\n', model);
  }
  const texts: string[] = [];
  let refs = 0;
  let refAspect: number | undefined;
  for (const content of body.contents as Array<{ parts?: Part[] }>) {
    for (const part of content?.parts ?? []) {
      if (typeof part.text === 'string') texts.push(part.text);
      if (part.inlineData) {
        refs++;
        const data = part.inlineData.data;
        if (typeof data !== 'string') return invalid('* inlineData.data: required base64 string\n', model);
        const dims = refAspect === undefined ? pngSize(Buffer.from(data.slice(0, 64), 'base64')) : undefined;
        if (dims) refAspect = dims.width / dims.height;
      }
      if (part.fileData) refs++;
    }
  }
  if (texts.length === 0 && refs === 0) {
    return invalid('* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n', model);
  }

  const gen = body.generationConfig ?? {};
  const imageConfig = (gen.imageConfig ?? {}) as Record<string, unknown>;
  // The Gemini API accepts only these two fields; the rest are Vertex-only.
  for (const k of Object.keys(imageConfig)) {
    if (k !== 'aspectRatio' && k !== 'imageSize') {
      return invalid(
        `Invalid JSON payload received. Unknown name "${k}" at 'generation_config.image_config': Cannot find field.`,
        model,
      );
    }
  }
  const { aspectRatio, imageSize } = imageConfig;
  if (aspectRatio !== undefined && !gm.ratios.includes(String(aspectRatio))) {
    return invalid(
      `* GenerateContentRequest.generation_config.image_config.aspect_ratio: unsupported aspect ratio "${String(aspectRatio)}" for ${model}. Supported: ${gm.ratios.join(', ')}\n`,
      model,
    );
  }
  if (imageSize !== undefined && !gm.sizes.includes(String(imageSize) as GeminiSize)) {
    return invalid(
      `* GenerateContentRequest.generation_config.image_config.image_size: unsupported image size "${String(imageSize)}" for ${model}. Supported: ${gm.sizes.join(', ')}\n`,
      model,
    );
  }
  const modalities = gen.responseModalities;
  const wantImage = !Array.isArray(modalities) || modalities.some((m) => String(m).toUpperCase() === 'IMAGE');
  const ratio =
    (aspectRatio as string | undefined) ??
    (refAspect === undefined ? '1:1' : nearestRatio(gm.ratios, refAspect));
  const size = (imageSize as GeminiSize | undefined) ?? '1K';
  return { key: '', model, prompt: texts.join('\n'), gm, ratio, size, refs, wantImage };
}

const THOUGHT_TOKENS = 180;

function usage(p: GeminiReq, imageTokens: number) {
  const text = textTokens(p.prompt);
  const refTokens = p.refs * p.gm.inputImageTokens;
  const thoughts = p.gm.thinks ? THOUGHT_TOKENS : 0;
  return {
    promptTokenCount: text + refTokens,
    candidatesTokenCount: imageTokens,
    totalTokenCount: text + refTokens + imageTokens + thoughts,
    ...(thoughts && { thoughtsTokenCount: thoughts }),
    promptTokensDetails: [
      { modality: 'TEXT', tokenCount: text },
      ...(p.refs ? [{ modality: 'IMAGE', tokenCount: refTokens }] : []),
    ],
    ...(imageTokens && { candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: imageTokens }] }),
  };
}

function envelope(p: GeminiReq, candidates: unknown[] | undefined, imageTokens: number, extra = {}) {
  return {
    ...(candidates && { candidates }),
    ...extra,
    usageMetadata: usage(p, imageTokens),
    modelVersion: p.model,
    responseId: randomBytes(15).toString('base64url'),
  };
}

function thoughtParts(p: GeminiReq): unknown[] {
  if (!p.gm.thinks) return [];
  const parts: unknown[] = [
    {
      text: '**Composing the image**\n\nPlanning layout, lighting and palette for the request.',
      thought: true,
    },
  ];
  // Interim thought image (gemini-3-pro-image): clients must skip parts with thought: true.
  if (p.gm.thoughtImage) {
    const draft = makePng(64, 64, `thought:${p.prompt}`).toString('base64');
    parts.push({ inlineData: { mimeType: 'image/png', data: draft }, thought: true });
  }
  return parts;
}

export function geminiFormat(state: SimState): FormatSpec<GeminiReq> {
  return {
    apiKey: geminiKey,
    missingKey: geminiMissingKey,
    revoked: geminiRevokedKey,
    depleted: () =>
      geminiError(
        429,
        'RESOURCE_EXHAUSTED',
        'Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.',
      ),
    parse: async (c, key) => {
      const r = await parse(c);
      return 'error' in r ? r : { ...r, key };
    },
    rateLimited: (_c, p, d) => {
      const delay = googleDuration(d.retryAfterMs);
      const [quotaId, metric] =
        d.kind === 'rpm'
          ? [
              d.modelScoped
                ? 'GenerateRequestsPerMinutePerProjectPerModel'
                : 'GenerateRequestsPerMinutePerProject',
              'generativelanguage.googleapis.com/generate_requests_per_model',
            ]
          : [
              'GenerateContentConcurrentRequestsPerMinutePerProject',
              'generativelanguage.googleapis.com/concurrent_requests',
            ];
      return geminiError(
        429,
        'RESOURCE_EXHAUSTED',
        `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n* Quota exceeded for metric: ${metric}, limit: ${d.limit}, model: ${p.model}\nPlease retry in ${delay}.`,
        [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: metric,
                quotaId,
                quotaDimensions: { location: 'global', model: p.model },
                quotaValue: String(d.limit),
              },
            ],
          },
          {
            '@type': 'type.googleapis.com/google.rpc.Help',
            links: [
              {
                description: 'Learn more about Gemini API quotas',
                url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
              },
            ],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay },
        ],
      );
    },
    serverError: () => geminiError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
    noImage: (_c, p, variant) => {
      // The two "no image" 200s seen in the wild: NO_IMAGE without parts, or STOP with text only.
      const candidate =
        variant < 0.5
          ? { finishReason: 'NO_IMAGE', finishMessage: 'The model could not generate an image.', index: 0 }
          : {
              content: {
                role: 'model',
                parts: [{ text: 'I can describe this scene, but here it is in words.' }],
              },
              finishReason: 'STOP',
              index: 0,
            };
      return json(envelope(p, [candidate], 0), 200);
    },
    blocked: (_c, p, wordIndex) => {
      // Even-indexed words block the prompt; odd-indexed ones filter the generated image.
      if (wordIndex % 2 === 0) {
        return json(
          envelope(p, undefined, 0, { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } }),
          200,
        );
      }
      const candidate = {
        finishReason: 'IMAGE_SAFETY',
        finishMessage:
          "Unable to show the generated image. The image was filtered out because it violated Google's Generative AI Prohibited Use policy.",
        index: 0,
      };
      return json(envelope(p, [candidate], 0), 200);
    },
    success: (_c, p) => {
      const parts = thoughtParts(p);
      if (!p.wantImage) {
        parts.push({ text: 'responseModalities did not include IMAGE, so here is a description instead.' });
        return {
          response: json(
            envelope(p, [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], 0),
            200,
          ),
          images: 0,
        };
      }
      const dims = sizeDirective(p.prompt) ?? geminiDims(p.gm, p.ratio, p.size);
      const png = nextImage(state, dims.width, dims.height, p.prompt);
      parts.push({ text: 'Here is the image you asked for.' });
      parts.push({
        inlineData: { mimeType: 'image/png', data: png.toString('base64') },
        ...(p.gm.thinks && { thoughtSignature: randomBytes(24).toString('base64') }),
      });
      const candidate = { content: { role: 'model', parts }, finishReason: 'STOP', index: 0 };
      const tokens = p.gm.tokens[p.size] ?? 1120;
      return { response: json(envelope(p, [candidate], tokens), 200), images: 1 };
    },
  };
}
