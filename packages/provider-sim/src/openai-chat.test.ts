import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from './png.js';
import { type RunningSim, startSim } from './server.js';
import { pngDims, post } from './test-support/helpers.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ seed: 5, depletedKeys: ['broke'] });
});
afterAll(() => sim.close());

const AUTH = { authorization: 'Bearer or-key' };
const chat = (
  body: Record<string, unknown>,
  headers: Record<string, string> = AUTH,
  path = '/api/v1/chat/completions',
) => post(`${sim.url}${path}`, body, headers);
const ask = (model: string, text: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: [{ type: 'text', text }] }],
  modalities: ['image', 'text'],
  ...extra,
});
const dataUrlPng = (url: string) => {
  expect(url).toMatch(/^data:image\/png;base64,/);
  return pngDims(url.slice(url.indexOf(',') + 1));
};

describe('chat completions: image styles', () => {
  it('images (default): message.images[] data URLs, sized by image_config', async () => {
    const r = await chat(
      ask('google/gemini-3-pro-image-preview', 'a vase', {
        image_config: { aspect_ratio: '4:5', image_size: '2K' },
      }),
    );
    expect(r.status).toBe(200);
    const msg = r.json.choices[0].message;
    expect(msg.content).toBeTypeOf('string');
    expect(msg.images[0].type).toBe('image_url');
    expect(dataUrlPng(msg.images[0].image_url.url)).toEqual({ width: 1632, height: 2048 });
    expect(r.json.usage.completion_tokens).toBeGreaterThanOrEqual(1120);
  });

  it('also serves /v1/chat/completions, and 0.5K on 3.1-flash', async () => {
    const body = ask('google/gemini-3.1-flash-image-preview', 'x', { image_config: { image_size: '0.5K' } });
    const r = await chat(body, AUTH, '/v1/chat/completions');
    expect(dataUrlPng(r.json.choices[0].message.images[0].image_url.url)).toEqual({
      width: 512,
      height: 512,
    });
  });

  it('markdown style (model suffix): a data URL inside content', async () => {
    const r = await chat({
      model: 'gemini-3.1-flash-image-2k-markdown',
      messages: [{ role: 'user', content: 'a cat' }],
    });
    const content: string = r.json.choices[0].message.content;
    expect(r.json.choices[0].message.images).toBeUndefined();
    const m = /!\[[^\]]*\]\((data:image\/png;base64,[A-Za-z0-9+/=]+)\)/.exec(content);
    expect(m).not.toBeNull();
    expect(dataUrlPng(m?.[1] ?? '')).toEqual({ width: 2048, height: 2048 });
  });

  it('url style (header): markdown link to /__files/{id}.png serving the PNG', async () => {
    const r = await chat(ask('sim-chat', 'a dog [sim:48x32]'), { ...AUTH, 'x-sim-chat-style': 'url' });
    const link = /!\[[^\]]*\]\((http[^)]+)\)/.exec(r.json.choices[0].message.content)?.[1] ?? '';
    expect(link).toMatch(new RegExp(`^${sim.url}/__files/.+\\.png$`));
    const res = await fetch(link);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(pngDims(Buffer.from(await res.arrayBuffer()))).toEqual({ width: 48, height: 32 });
    expect((await fetch(`${sim.url}/__files/nope.png`)).status).toBe(404);
  });

  it('follows a reference image_url when no aspect ratio is given', async () => {
    const ref = `data:image/png;base64,${makePng(300, 600, 'ref').toString('base64')}`;
    const r = await chat({
      model: 'google/gemini-3.1-flash-image-preview',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'edit' },
            { type: 'image_url', image_url: { url: ref } },
          ],
        },
      ],
    });
    expect(dataUrlPng(r.json.choices[0].message.images[0].image_url.url)).toEqual({
      width: 576,
      height: 1024,
    }); // nearest ratio 9:16
  });

  it('answers text only when modalities lacks "image"', async () => {
    const r = await chat(ask('sim-chat', 'x', { modalities: ['text'] }));
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.images).toBeUndefined();
  });
});

describe('chat completions: errors (OpenRouter shape)', () => {
  const expectError = (
    r: { status: number; json: { error: { code: number; message: string } } },
    code: number,
  ) => {
    expect(r.status).toBe(code);
    expect(r.json.error.code).toBe(code);
    expect(r.json.error.message).toBeTypeOf('string');
  };

  it('missing key → 401, depleted → 402, blocked → 403', async () => {
    expectError(await chat(ask('sim-chat', 'x'), {}), 401);
    expectError(await chat(ask('sim-chat', 'x'), { authorization: 'Bearer broke' }), 402);
    const blocked = await chat(ask('sim-chat', 'forbidden thing'));
    expectError(blocked, 403);
    expect(blocked.json.error.metadata.reasons).toHaveLength(1);
  });

  it('unknown model, bad image_size or ratio, bad style header → 400', async () => {
    expectError(await chat(ask('google/gemini-9-image', 'x')), 400);
    expectError(
      await chat(ask('google/gemini-3-pro-image-preview', 'x', { image_config: { image_size: '0.5K' } })),
      400,
    );
    expectError(
      await chat(ask('google/gemini-3-pro-image-preview', 'x', { image_config: { aspect_ratio: '1:8' } })),
      400,
    );
    expectError(await chat(ask('sim-chat', 'x'), { ...AUTH, 'x-sim-chat-style': 'carrier-pigeon' }), 400);
  });
});
