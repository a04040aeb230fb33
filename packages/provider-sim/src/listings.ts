// Model listing endpoints, so adapters can check ids at start-up as providers.md §1 advises.
import type { Hono } from 'hono';
import { geminiKey, geminiMissingKey, geminiNotFound } from './gemini.js';
import { GEMINI_MODEL_IDS, geminiModel, OPENAI_MODEL_IDS, openaiModel } from './models.js';
import { bearerKey, openaiError, openaiMissingKey } from './openai-images.js';
import { json, type SimEnv } from './pipeline.js';

const CREATED = 1_767_225_600; // 2026-01-01, a fixed "created" for listings

const geminiEntry = (id: string) => ({
  name: `models/${id}`,
  version: '001',
  displayName: id,
  supportedGenerationMethods: ['generateContent', 'countTokens', 'batchGenerateContent'],
});

const openaiEntry = (id: string) => ({ id, object: 'model', created: CREATED, owned_by: 'system' });

export function registerListings(app: Hono<SimEnv>): void {
  app.get('/v1beta/models', (c) =>
    geminiKey(c) ? json({ models: GEMINI_MODEL_IDS.map(geminiEntry) }, 200) : geminiMissingKey(),
  );
  app.get('/v1beta/models/:id', (c) => {
    if (!geminiKey(c)) return geminiMissingKey();
    const id = c.req.param('id');
    return geminiModel(id) ? json(geminiEntry(id), 200) : geminiNotFound(id, 'get');
  });
  app.get('/v1/models', (c) =>
    bearerKey(c)
      ? json({ object: 'list', data: OPENAI_MODEL_IDS.map(openaiEntry) }, 200)
      : openaiMissingKey(),
  );
  app.get('/v1/models/:id', (c) => {
    if (!bearerKey(c)) return openaiMissingKey();
    const id = c.req.param('id');
    if (openaiModel(id)) return json(openaiEntry(id), 200);
    return openaiError(404, {
      message: `The model '${id}' does not exist`,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    });
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
