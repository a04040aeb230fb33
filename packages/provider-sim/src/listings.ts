// Model listing endpoints, so adapters can check ids at start-up as providers.md §1 advises, and
// check a key at no cost: a revoked key gets the same refusal as from an image call, counted apart
// from image calls (stats keyChecks).
import type { Hono } from 'hono';
import { geminiKey, geminiMissingKey, geminiNotFound, geminiRevokedKey } from './gemini.js';
import { GEMINI_MODEL_IDS, geminiModel, OPENAI_MODEL_IDS, openaiModel } from './models.js';
import { bearerKey, openaiError, openaiMissingKey, openaiRevokedKey } from './openai-images.js';
import { json, type SimEnv } from './pipeline.js';
import type { SimState } from './state.js';

const CREATED = 1_767_225_600; // 2026-01-01, a fixed "created" for listings

const geminiEntry = (id: string) => ({
  name: `models/${id}`,
  version: '001',
  displayName: id,
  supportedGenerationMethods: ['generateContent', 'countTokens', 'batchGenerateContent'],
});

/** OpenRouter's 401 body. */
const routerKeyError = (message: string): Response => json({ error: { code: 401, message } }, 401);

const openaiEntry = (id: string) => ({ id, object: 'model', created: CREATED, owned_by: 'system' });

export function registerListings(app: Hono<SimEnv>, state: SimState): void {
  /** The key's refusal when it is revoked (counted as a key check), else undefined. */
  const refusal = (key: string, refuse: () => Response): Response | undefined => {
    const revoked = state.config.revokedKeys.includes(key);
    state.stats.keyCheck(key, revoked);
    return revoked ? refuse() : undefined;
  };
  app.get('/v1beta/models', (c) => {
    const key = geminiKey(c);
    if (!key) return geminiMissingKey();
    return refusal(key, geminiRevokedKey) ?? json({ models: GEMINI_MODEL_IDS.map(geminiEntry) }, 200);
  });
  app.get('/v1beta/models/:id', (c) => {
    const key = geminiKey(c);
    if (!key) return geminiMissingKey();
    const refused = refusal(key, geminiRevokedKey);
    if (refused) return refused;
    const id = c.req.param('id');
    return geminiModel(id) ? json(geminiEntry(id), 200) : geminiNotFound(id, 'get');
  });
  app.get('/v1/models', (c) => {
    const key = bearerKey(c);
    if (!key) return openaiMissingKey();
    return (
      refusal(key, () => openaiRevokedKey(key)) ??
      json({ object: 'list', data: OPENAI_MODEL_IDS.map(openaiEntry) }, 200)
    );
  });
  app.get('/v1/models/:id', (c) => {
    const key = bearerKey(c);
    if (!key) return openaiMissingKey();
    const refused = refusal(key, () => openaiRevokedKey(key));
    if (refused) return refused;
    const id = c.req.param('id');
    if (openaiModel(id)) return json(openaiEntry(id), 200);
    return openaiError(404, {
      message: `The model '${id}' does not exist`,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    });
  });
  // OpenRouter's details of the key itself (`GET /api/v1/key`), served under /v1 too like its chat route.
  for (const path of ['/api/v1/key', '/v1/key'])
    app.get(path, (c) => {
      const key = bearerKey(c);
      if (!key) return routerKeyError('No auth credentials found');
      return (
        refusal(key, () => routerKeyError('User not found.')) ??
        json(
          {
            data: {
              label: `${key.slice(0, 3)}...${key.slice(-3)}`,
              limit: null,
              usage: 0,
              is_free_tier: false,
            },
          },
          200,
        )
      );
    });
  // OpenRouter's catalogue is public; slugs keep the -preview suffix upstream uses.
  app.get('/api/v1/models', () =>
    json(
      {
        data: GEMINI_MODEL_IDS.map((id) => ({
          id: `google/${id}`,
          name: id,
          architecture: { input_modalities: ['text', 'image'], output_modalities: ['image', 'text'] },
        })),
      },
      200,
    ),
  );
}
