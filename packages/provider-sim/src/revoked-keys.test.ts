import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionsFromEnv } from './env.js';
import { type RunningSim, startSim } from './server.js';
import { geminiBody, post } from './test-support/helpers.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ seed: 11, revokedKeys: ['gone-key-1234'] });
});
afterAll(() => sim.close());

const gemini = (key: string) =>
  post(`${sim.url}/v1beta/models/gemini-3.1-flash-image:generateContent`, geminiBody('a cat [sim:16x16]'), {
    'x-goog-api-key': key,
  });
const images = (key: string) =>
  post(
    `${sim.url}/v1/images/generations`,
    { model: 'gpt-image-1-mini', prompt: 'a cat [sim:16x16]' },
    { authorization: `Bearer ${key}` },
  );
const chat = (key: string) =>
  post(
    `${sim.url}/v1/chat/completions`,
    { model: 'google/gemini-3.1-flash-image-preview', messages: [{ role: 'user', content: 'a cat' }] },
    { authorization: `Bearer ${key}` },
  );

describe('revoked keys', () => {
  it('Gemini answers 400 INVALID_ARGUMENT with reason API_KEY_INVALID; other keys still work', async () => {
    const r = await gemini('gone-key-1234');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: 'API key not valid. Please pass a valid API key.',
    });
    expect(r.json.error.details).toEqual([expect.objectContaining({ reason: 'API_KEY_INVALID' })]);
    expect((await gemini('good-key')).status).toBe(200);
  });

  it('OpenAI Images answers 401 invalid_api_key, showing the key only masked', async () => {
    const r = await images('gone-key-1234');
    expect(r.status).toBe(401);
    expect(r.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    expect(r.json.error.message).toMatch(/^Incorrect API key provided: gon\*+1234\./);
    expect(r.json.error.message).not.toContain('gone-key-1234');
    expect((await images('good-key')).status).toBe(200);
  });

  it('model listings refuse a revoked key as image calls do, counted as key checks, not image calls', async () => {
    sim.reset();
    const list = (path: string, headers: Record<string, string>) =>
      fetch(`${sim.url}${path}`, { headers }).then(async (r) => ({
        status: r.status,
        json: (await r.json()) as { error: { code: unknown; details?: unknown[] } },
      }));
    const gem = await list('/v1beta/models?pageSize=1', { 'x-goog-api-key': 'gone-key-1234' });
    expect(gem.status).toBe(400);
    expect(gem.json.error.details).toEqual([expect.objectContaining({ reason: 'API_KEY_INVALID' })]);
    const oai = await list('/v1/models', { authorization: 'Bearer gone-key-1234' });
    expect(oai.status).toBe(401);
    expect(oai.json.error.code).toBe('invalid_api_key');
    expect((await list('/v1/models', { authorization: 'Bearer good-key' })).status).toBe(200);
    const router = await list('/api/v1/key', { authorization: 'Bearer gone-key-1234' });
    expect(router.status).toBe(401);
    expect(router.json.error.code).toBe(401);
    const stats = sim.stats();
    expect(stats.keyChecks).toEqual({
      'gone-key-1234': { requests: 3, refused: 3 },
      'good-key': { requests: 1, refused: 0 },
    });
    expect(stats.requests).toBe(0);
  });

  it('the OpenAI-compatible chat route answers 401', async () => {
    const r = await chat('gone-key-1234');
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe(401);
  });

  it('counts the refusals under the key, and can revoke a key while running (POST /__config)', async () => {
    sim.reset();
    await images('later-key');
    await post(`${sim.url}/__config`, { revokedKeys: ['gone-key-1234', 'later-key'] });
    expect((await images('later-key')).status).toBe(401);
    await post(`${sim.url}/__config`, { revokedKeys: ['gone-key-1234'] });
    const stats = sim.stats();
    expect(stats.byKey['later-key']).toMatchObject({ requests: 2, byStatus: { '200': 1, '401': 1 } });
  });

  it('SIM_REVOKED_KEYS is read from the environment', () => {
    expect(optionsFromEnv({ SIM_REVOKED_KEYS: 'a, b' }).revokedKeys).toEqual(['a', 'b']);
  });
});
