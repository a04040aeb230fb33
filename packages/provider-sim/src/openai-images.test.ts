import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from './png.js';
import { type RunningSim, startSim } from './server.js';
import { pngDims, post } from './test-support/helpers.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({
    seed: 3,
    depletedKeys: ['broke'],
    revokedKeys: ['gone'],
    limits: { limited: { rpm: 2 } },
  });
});
afterAll(() => sim.close());

const gen = (body: unknown, key = 'sk-test') =>
  post(`${sim.url}/v1/images/generations`, body, { authorization: `Bearer ${key}` });

function editForm(fields: Record<string, string>, images: number): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (let i = 0; i < images; i++) {
    fd.append(
      'image[]',
      new Blob([new Uint8Array(makePng(32, 32, `ref${i}`))], { type: 'image/png' }),
      `r${i}.png`,
    );
  }
  return fd;
}

const edit = async (fd: FormData, key = 'sk-test') => {
  const res = await fetch(`${sim.url}/v1/images/edits`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: fd,
  });
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
};

describe('OpenAI images/generations', () => {
  it('returns n base64 PNGs of the requested size, reported as png, with usage', async () => {
    const r = await gen({
      model: 'gpt-image-1.5',
      prompt: 'a teapot',
      n: 2,
      size: '1536x1024',
      output_format: 'jpeg',
    });
    expect(r.status).toBe(200);
    expect(r.json.data).toHaveLength(2);
    for (const d of r.json.data) expect(pngDims(d.b64_json)).toEqual({ width: 1536, height: 1024 });
    expect(r.json.data[0].b64_json).not.toBe(r.json.data[1].b64_json);
    expect(r.json).toMatchObject({ size: '1536x1024', output_format: 'png', quality: 'medium' });
    expect(r.json.created).toBeTypeOf('number');
    const u = r.json.usage;
    expect(u.output_tokens).toBe(2 * 1584); // medium at 1536x1024
    expect(u.total_tokens).toBe(u.input_tokens + u.output_tokens);
    expect(r.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it.each([
    ['gpt-image-1-mini', 'auto', 1024, 1024],
    ['gpt-image-1.5', '1024x1536', 1024, 1536],
    ['gpt-image-2', '2048x1152', 2048, 1152],
    ['gpt-image-2-2026-04-21', '3840x1280', 3840, 1280],
    ['gpt-image-2.5-flare', '512x1536', 512, 1536],
    ['sim-openai', '256x256', 256, 256],
  ])('%s size %s → %ix%i', async (model, size, w, h) => {
    const r = await gen({ model, prompt: 'p', size });
    expect(r.status).toBe(200);
    expect(pngDims(r.json.data[0].b64_json)).toEqual({ width: w, height: h });
  });

  it('[sim:WxH] forces the output size', async () => {
    const r = await gen({ model: 'gpt-image-2', prompt: 'tiny [sim:40x24]', size: '1024x1024' });
    expect(pngDims(r.json.data[0].b64_json)).toEqual({ width: 40, height: 24 });
    expect(r.json.size).toBe('40x24');
  });

  it.each([
    [{ model: 'gpt-image-1.5', prompt: 'p', size: '2048x2048' }, 'size'],
    [{ model: 'gpt-image-2', prompt: 'p', size: '1000x1000' }, 'size'],
    [{ model: 'gpt-image-2', prompt: 'p', size: '3840x1024' }, 'size'],
    [{ model: 'gpt-image-2', prompt: 'p', size: '3840x2176' }, 'size'],
    [{ model: 'gpt-image-2', prompt: 'p', n: 11 }, 'n'],
    [{ model: 'gpt-image-2', prompt: 'p', quality: 'max' }, 'quality'],
    [{ model: 'gpt-image-2', prompt: 'p', output_format: 'gif' }, 'output_format'],
    [{ model: 'gpt-image-2' }, 'prompt'],
  ])('%j → 400 invalid_request_error on %s', async (body, param) => {
    const r = await gen(body);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('accepts 2.5 quality levels', async () => {
    const r = await gen({ model: 'gpt-image-2.5-sunburst', prompt: 'p [sim:16x16]', quality: 'xhigh' });
    expect(r.json.quality).toBe('xhigh');
  });

  it('unknown model, or none (the retired dall-e-2 default) → 404 model_not_found', async () => {
    for (const body of [{ model: 'gpt-image-9', prompt: 'p' }, { prompt: 'p' }]) {
      const r = await gen(body);
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('model_not_found');
    }
  });

  it('missing key → 401; depleted → 429 insufficient_quota', async () => {
    const none = await post(`${sim.url}/v1/images/generations`, { model: 'gpt-image-2', prompt: 'p' });
    expect(none.status).toBe(401);
    expect(none.json.error.type).toBe('invalid_request_error');
    const broke = await gen({ model: 'gpt-image-2', prompt: 'p' }, 'broke');
    expect(broke.status).toBe(429);
    expect(broke.json.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
  });

  it('revoked key → 401 invalid_api_key', async () => {
    const gone = await gen({ model: 'gpt-image-2', prompt: 'p' }, 'gone');
    expect(gone.status).toBe(401);
    expect(gone.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
  });

  it('block words → 400 moderation_blocked', async () => {
    const r = await gen({ model: 'gpt-image-2', prompt: 'nsfw' });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'moderation_blocked', type: 'image_generation_user_error' });
  });

  it('rate limits carry x-ratelimit-* on success and retry-after(-ms) on 429', async () => {
    const body = { model: 'gpt-image-2', prompt: 'p [sim:16x16]' };
    const first = await gen(body, 'limited');
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(first.headers.get('x-ratelimit-reset-requests')).toBe('1m0s');
    expect((await gen(body, 'limited')).status).toBe(200);
    const third = await gen(body, 'limited');
    expect(third.status).toBe(429);
    expect(third.json.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
    const ms = Number(third.headers.get('retry-after-ms'));
    expect(ms).toBeGreaterThan(59_000);
    expect(ms).toBeLessThanOrEqual(60_000);
    expect(third.headers.get('retry-after')).toBe('60');
    expect(third.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  });
});

describe('OpenAI images/edits (multipart)', () => {
  it('accepts image[] files and answers like generations', async () => {
    const r = await edit(
      editForm({ model: 'gpt-image-1.5', prompt: 'on white', n: '2', size: '1024x1024' }, 3),
    );
    expect(r.status).toBe(200);
    expect(r.json.data).toHaveLength(2);
    expect(pngDims(r.json.data[1].b64_json)).toEqual({ width: 1024, height: 1024 });
    expect(r.json.usage.input_tokens_details.image_tokens).toBeGreaterThan(0);
  });

  it('rejects a missing image, JSON bodies, and input_fidelity on gpt-image-2', async () => {
    expect((await edit(editForm({ model: 'gpt-image-1.5', prompt: 'x' }, 0))).json.error.param).toBe('image');
    const json = await post(
      `${sim.url}/v1/images/edits`,
      { model: 'gpt-image-2', prompt: 'x' },
      { authorization: 'Bearer k' },
    );
    expect(json.status).toBe(400);
    const fid = await edit(editForm({ model: 'gpt-image-2', prompt: 'x', input_fidelity: 'high' }, 1));
    expect(fid.status).toBe(400);
    expect(fid.json.error.param).toBe('input_fidelity');
  });
});
