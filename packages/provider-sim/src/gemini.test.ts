import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from './png.js';
import { type RunningSim, startSim } from './server.js';
import { geminiBody, pngDims, post } from './test-support/helpers.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ seed: 7, depletedKeys: ['broke'], revokedKeys: ['gone'] });
});
afterAll(() => sim.close());

const url = (model: string) => `${sim.url}/v1beta/models/${model}:generateContent`;
const KEY = { 'x-goog-api-key': 'g-key' };

/** The answer image: the last inlineData part that is not a thought. */
// biome-ignore lint/suspicious/noExplicitAny: response JSON
function finalImage(json: any): string {
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  const parts = json.candidates[0].content.parts.filter((p: any) => p.inlineData && !p.thought);
  return parts[parts.length - 1].inlineData.data;
}

describe('Gemini generateContent', () => {
  it.each([
    ['gemini-3.1-flash-image', { aspectRatio: '16:9', imageSize: '1K' }, 1024, 576],
    ['gemini-3.1-flash-image', { aspectRatio: '1:1', imageSize: '512' }, 512, 512],
    ['gemini-3.1-flash-image', { aspectRatio: '1:8', imageSize: '512' }, 64, 512],
    ['gemini-3.1-flash-image', { aspectRatio: '4:5', imageSize: '2K' }, 1632, 2048],
    ['gemini-3-pro-image', { aspectRatio: '21:9', imageSize: '2K' }, 2048, 880],
    ['gemini-2.5-flash-image', { aspectRatio: '16:9' }, 1344, 768],
    ['gemini-2.5-flash-image', { aspectRatio: '3:4' }, 864, 1184],
    ['gemini-nano-banana-2.1', { aspectRatio: '8:1', imageSize: '1K' }, 1024, 128],
    ['gemini-3.1-flash-lite-image', undefined, 1024, 1024],
    ['sim-anything', { aspectRatio: '4:1', imageSize: '2K' }, 2048, 512],
  ] as const)('%s %j → %ix%i PNG', async (model, imageConfig, w, h) => {
    const r = await post(url(model), geminiBody('a red sneaker', imageConfig), KEY);
    expect(r.status).toBe(200);
    expect(r.json.candidates[0].finishReason).toBe('STOP');
    expect(pngDims(finalImage(r.json))).toEqual({ width: w, height: h });
    expect(r.json.usageMetadata.candidatesTokensDetails[0].modality).toBe('IMAGE');
  });

  it('gemini-3-pro-image thinks first: thought text and a draft image precede the answer', async () => {
    const r = await post(url('gemini-3-pro-image'), geminiBody('a lamp', { imageSize: '2K' }), KEY);
    const parts = r.json.candidates[0].content.parts;
    expect(parts[0]).toMatchObject({ thought: true });
    expect(parts[1]).toMatchObject({ thought: true, inlineData: { mimeType: 'image/png' } });
    expect(parts.at(-2).text).toBeTypeOf('string');
    expect(parts.at(-1).inlineData.mimeType).toBe('image/png');
    expect(parts.at(-1).thought).toBeUndefined();
    expect(pngDims(parts.at(-1).inlineData.data)).toEqual({ width: 2048, height: 2048 });
    expect(r.json.usageMetadata.candidatesTokensDetails).toEqual([{ modality: 'IMAGE', tokenCount: 1120 }]);
  });

  it('reports output tokens per the providers.md table', async () => {
    const cases = [
      ['gemini-2.5-flash-image', undefined, 1290],
      ['gemini-3-pro-image', '4K', 2000],
      ['gemini-3.1-flash-image', '512', 747],
      ['gemini-3.1-flash-image', '4K', 2520],
    ] as const;
    for (const [model, imageSize, tokens] of cases) {
      const cfg = imageSize ? { imageSize } : undefined;
      const r = await post(url(model), geminiBody('[sim:16x16] cheap', cfg), KEY);
      expect(r.json.usageMetadata.candidatesTokensDetails[0].tokenCount).toBe(tokens);
    }
  });

  it('accepts ?key=, honours [sim:WxH], and follows a reference image when aspectRatio is absent', async () => {
    const direct = await post(`${url('gemini-3.1-flash-image')}?key=q`, geminiBody('x [sim:33x17]'));
    expect(pngDims(finalImage(direct.json))).toEqual({ width: 33, height: 17 });

    const ref = { inlineData: { mimeType: 'image/png', data: makePng(400, 200, 'ref').toString('base64') } };
    const r = await post(url('gemini-3.1-flash-image'), geminiBody('restyle image 1', undefined, [ref]), KEY);
    expect(pngDims(finalImage(r.json))).toEqual({ width: 1024, height: 576 }); // nearest ratio 16:9
    expect(r.json.usageMetadata.promptTokensDetails).toContainEqual({ modality: 'IMAGE', tokenCount: 1120 });
  });

  it('two generations of one prompt are different images', async () => {
    const a = await post(url('sim-x'), geminiBody('same [sim:32x32]'), KEY);
    const b = await post(url('sim-x'), geminiBody('same [sim:32x32]'), KEY);
    expect(finalImage(a.json)).not.toBe(finalImage(b.json));
  });

  it('answers text only when responseModalities lacks IMAGE', async () => {
    const body = {
      contents: [{ parts: [{ text: 'hi' }] }],
      generationConfig: { responseModalities: ['TEXT'] },
    };
    const r = await post(url('gemini-3.1-flash-image'), body, KEY);
    expect(r.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: response JSON
    expect(r.json.candidates[0].content.parts.some((p: any) => p.inlineData)).toBe(false);
  });
});

describe('Gemini errors', () => {
  const expectError = async (
    model: string,
    body: unknown,
    status: number,
    rpc: string,
    headers: Record<string, string> = KEY,
  ) => {
    const r = await post(url(model), body, headers);
    expect(r.status).toBe(status);
    expect(r.json.error).toMatchObject({ code: status, status: rpc });
    expect(r.json.error.message).toBeTypeOf('string');
    return r.json.error;
  };

  it('missing key → 403 PERMISSION_DENIED (what Google answers unregistered callers)', async () => {
    await expectError('gemini-3-pro-image', geminiBody('x'), 403, 'PERMISSION_DENIED', {});
  });

  it('unknown or retired model → 404 NOT_FOUND', async () => {
    await expectError('gemini-9-ultra-image', geminiBody('x'), 404, 'NOT_FOUND');
    await expectError('gemini-3-pro-image-preview', geminiBody('x'), 404, 'NOT_FOUND');
  });

  it.each([
    ['gemini-3-pro-image', { imageSize: '1k' }],
    ['gemini-3-pro-image', { imageSize: '512' }],
    ['gemini-nano-banana-2.1', { imageSize: '512' }],
    ['gemini-2.5-flash-image', { imageSize: '2K' }],
    ['gemini-3-pro-image', { aspectRatio: '1:8' }],
    ['gemini-3.1-flash-image', { aspectRatio: '7:3' }],
    ['gemini-3.1-flash-image', { outputMimeType: 'image/jpeg' }],
  ])('%s %j → 400 INVALID_ARGUMENT', async (model, cfg) => {
    await expectError(model, geminiBody('x', cfg as Record<string, string>), 400, 'INVALID_ARGUMENT');
  });

  it('bad JSON and empty contents → 400 INVALID_ARGUMENT', async () => {
    const res = await fetch(url('sim-x'), { method: 'POST', headers: KEY, body: '{nope' });
    expect(res.status).toBe(400);
    await expectError('sim-x', { contents: [] }, 400, 'INVALID_ARGUMENT');
  });

  it('depleted key → 429 RESOURCE_EXHAUSTED without details', async () => {
    const err = await expectError('sim-x', geminiBody('x'), 429, 'RESOURCE_EXHAUSTED', {
      'x-goog-api-key': 'broke',
    });
    expect(err.details).toBeUndefined();
    expect(err.message).toMatch(/^Your prepayment credits are depleted/);
  });

  it('revoked key → 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID', async () => {
    const err = await expectError('sim-x', geminiBody('x'), 400, 'INVALID_ARGUMENT', {
      'x-goog-api-key': 'gone',
    });
    expect(err.details).toEqual([expect.objectContaining({ reason: 'API_KEY_INVALID' })]);
  });

  it('block words: promptFeedback for one, IMAGE_SAFETY candidate for the other (HTTP 200)', async () => {
    const a = await post(url('sim-x'), geminiBody('something FORBIDDEN here'), KEY);
    expect(a.status).toBe(200);
    expect(a.json.promptFeedback).toEqual({ blockReason: 'PROHIBITED_CONTENT' });
    expect(a.json.candidates).toBeUndefined();
    const b = await post(url('sim-x'), geminiBody('nsfw please'), KEY);
    expect(b.status).toBe(200);
    expect(b.json.candidates[0].finishReason).toBe('IMAGE_SAFETY');
    expect(b.json.candidates[0].content).toBeUndefined();
  });
});

describe('Gemini routing edge cases', () => {
  it('methods the sim does not simulate → 501 UNIMPLEMENTED; bad escapes → 400', async () => {
    const r = await post(`${sim.url}/v1beta/models/gemini-3-pro-image:streamGenerateContent`, {}, KEY);
    expect(r.status).toBe(501);
    expect(r.json.error.status).toBe('UNIMPLEMENTED');
    const bad = await post(`${sim.url}/v1beta/models/%E0%A4%A:generateContent`, geminiBody('x'), KEY);
    expect(bad.status).toBe(400);
  });
});
