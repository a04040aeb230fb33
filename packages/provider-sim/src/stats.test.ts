import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSim, startSim } from './server.js';
import { post, send } from './test-support/helpers.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ depletedKeys: ['broke'] });
});
afterAll(() => sim.close());

const getJson = async (path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${sim.url}${path}`, { headers });
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  return { status: res.status, json: (await res.json()) as any };
};

describe('/__stats', () => {
  it('counts requests, statuses, keys, key|model pairs, successes per prompt and images', async () => {
    sim.reset();
    await send(sim.url, 'gemini', 'a', 'sim-1', 'cat [sim:16x16]');
    await send(sim.url, 'gemini', 'a', 'sim-1', 'cat [sim:16x16]');
    await send(sim.url, 'chat', 'a', 'sim-2', 'dog [sim:16x16]');
    await post(
      `${sim.url}/v1/images/generations`,
      { model: 'sim-3', prompt: 'owl [sim:16x16]', n: 3 },
      {
        authorization: 'Bearer b',
      },
    );
    await send(sim.url, 'openai', 'b', 'sim-3', 'forbidden owl');
    await send(sim.url, 'openai', 'broke');
    await send(sim.url, 'gemini', 'a', 'gemini-0-image');

    const s = sim.stats();
    expect(s.requests).toBe(7);
    expect(s.byStatus).toEqual({ '200': 4, '400': 1, '429': 1, '404': 1 });
    expect(s.images).toBe(6);
    expect(s.successesByPrompt).toEqual({ 'cat [sim:16x16]': 2, 'dog [sim:16x16]': 1, 'owl [sim:16x16]': 1 });
    expect(s.byKey.a).toEqual({
      requests: 4,
      byStatus: { '200': 3, '404': 1 },
      maxWindowUse: 3,
      maxConcurrent: 1,
    });
    expect(s.byKey.broke).toMatchObject({ requests: 1, byStatus: { '429': 1 }, maxWindowUse: 0 });
    expect(s.byKeyModel['a|sim-1']).toMatchObject({ requests: 2, maxWindowUse: 2 });
    expect(s.byKeyModel['b|sim-3']).toMatchObject({ requests: 2, byStatus: { '200': 1, '400': 1 } });
    expect(s.byKeyModel['a|gemini-0-image']).toMatchObject({ byStatus: { '404': 1 } });

    const http = await getJson('/__stats');
    expect(http.json).toEqual(s);
  });

  it('POST /__reset and reset() clear the stats (admin routes are not counted)', async () => {
    await send(sim.url, 'gemini', 'a');
    expect((await post(`${sim.url}/__reset`, {})).json).toEqual({ ok: true });
    expect(sim.stats()).toEqual({
      requests: 0,
      byStatus: {},
      byKey: {},
      byKeyModel: {},
      successesByPrompt: {},
      images: 0,
      keyChecks: {},
    });
    await send(sim.url, 'gemini', 'a');
    sim.reset();
    expect(sim.stats().requests).toBe(0);
  });
});

describe('control and listing routes', () => {
  it('/__config changes faults and limits at runtime and rejects bad values', async () => {
    expect((await post(`${sim.url}/__config`, { faults: { http5xx: 1 } })).status).toBe(200);
    expect((await send(sim.url, 'gemini', 'a')).status).toBe(503);
    await post(`${sim.url}/__config`, { faults: { http5xx: 0 }, depletedKeys: ['a'] });
    expect((await send(sim.url, 'chat', 'a')).status).toBe(402);
    await post(`${sim.url}/__config`, { depletedKeys: [] });
    expect((await post(`${sim.url}/__config`, { faults: { hang: 2 } })).status).toBe(400);
    expect((await send(sim.url, 'gemini', 'a')).status).toBe(200);
  });

  it('lists models in each provider format', async () => {
    const g = await getJson('/v1beta/models', { 'x-goog-api-key': 'k' });
    expect(g.json.models.map((m: { name: string }) => m.name)).toContain('models/gemini-3-pro-image');
    expect(
      (await getJson('/v1beta/models/gemini-3-pro-image-preview', { 'x-goog-api-key': 'k' })).status,
    ).toBe(404);
    expect((await getJson('/v1beta/models')).status).toBe(403);
    const o = await getJson('/v1/models', { authorization: 'Bearer k' });
    expect(o.json.data.map((m: { id: string }) => m.id)).toContain('gpt-image-2');
    expect((await getJson('/v1/models/dall-e-3', { authorization: 'Bearer k' })).json.error.code).toBe(
      'model_not_found',
    );
    const r = await getJson('/api/v1/models');
    expect(r.json.data[0].architecture.output_modalities).toContain('image');
    expect((await getJson('/__health')).json).toEqual({ ok: true });
  });

  it('unknown routes answer 404 JSON', async () => {
    expect((await getJson('/v2/whatever')).status).toBe(404);
  });
});
