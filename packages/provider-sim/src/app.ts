import { Hono } from 'hono';
import { registerAdmin } from './admin.js';
import { createGeminiBatch, registerGeminiBatch } from './batch/gemini-batch.js';
import { registerOpenAiBatch } from './batch/openai-batch.js';
import { geminiFormat } from './gemini.js';
import { registerListings } from './listings.js';
import { openaiChatFormat } from './openai-chat.js';
import { openaiImagesFormat } from './openai-images.js';
import { handle, json, type SimEnv, SimResetError } from './pipeline.js';
import { createState, type SimOptions, type SimState } from './state.js';

/** The simulator as a Hono app, usable in-process with app.request() or served over HTTP. */
export function createSimApp(opts: SimOptions = {}): { app: Hono<SimEnv>; state: SimState } {
  const state = createState(opts);
  const app = new Hono<SimEnv>();
  registerAdmin(app, state);
  registerListings(app, state);

  const gemini = geminiFormat(state);
  const generations = openaiImagesFormat(state, false);
  const edits = openaiImagesFormat(state, true);
  const chat = openaiChatFormat(state);
  registerOpenAiBatch(app, state);
  registerGeminiBatch(app, state);
  app.post('/v1beta/models/*', (c) => {
    const batch = /^\/v1beta\/models\/([^/:]+):batchGenerateContent$/.exec(c.req.path);
    if (batch !== null) return createGeminiBatch(state, c, decodeURIComponent(batch[1] ?? ''));
    return handle(state, gemini, c);
  });
  app.post('/v1/images/generations', (c) => handle(state, generations, c));
  app.post('/v1/images/edits', (c) => handle(state, edits, c));
  app.post('/v1/chat/completions', (c) => handle(state, chat, c));
  app.post('/api/v1/chat/completions', (c) => handle(state, chat, c));

  app.notFound((c) =>
    json({ error: { code: 404, message: `provider-sim: no route ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError((err) => {
    // In-process there is no socket to destroy: let the reset surface as a failed fetch.
    if (err instanceof SimResetError) throw err;
    return json({ error: { code: 500, message: `provider-sim internal error: ${String(err)}` } }, 500);
  });
  return { app, state };
}
