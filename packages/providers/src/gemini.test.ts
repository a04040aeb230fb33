import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGeminiModel } from './gemini.js';
import { PNG_1X1, PNG_1X1_BASE64 } from './test-support/fixtures.js';
import { providerFailure as failure } from './test-support/provider-failure.js';
import { type ScriptServer, startScriptServer } from './test-support/script-server.js';
import type { GenerateRequest } from './types.js';

let server: ScriptServer;
beforeAll(async () => {
  server = await startScriptServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  upstreamModel: 'gemini-3-pro-image',
  prompt: 'Studio shot of the sneaker in image 1 on white seamless',
  size: '2K',
  aspectRatio: '4:5',
  n: 1,
  referenceImages: [],
  apiKey: 'g-key-1',
  timeoutMs: 5000,
  ...over,
});

const imageResponse = {
  candidates: [
    {
      content: {
        role: 'model',
        parts: [
          { text: 'thinking', thought: true },
          {
            inlineData: { mimeType: 'image/png', data: Buffer.from('draft').toString('base64') },
            thought: true,
          },
          { text: 'Here is the product shot.' },
          { inlineData: { mimeType: 'image/png', data: PNG_1X1_BASE64 }, thoughtSignature: 'sig' },
        ],
      },
      finishReason: 'STOP',
    },
  ],
  usageMetadata: {
    promptTokenCount: 600,
    candidatesTokenCount: 1120,
    candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: 1120 }],
  },
  responseId: 'resp-1',
};

describe('createGeminiModel', () => {
  it('sends the native request and returns the last non-thought image', async () => {
    server.reply({ body: imageResponse });
    const model = createGeminiModel({ baseUrl: `${server.url}/` });
    const result = await model.generate(
      request({ referenceImages: [{ bytes: PNG_1X1, mimeType: 'image/png' }] }),
    );

    expect(result.images).toHaveLength(1);
    expect(result.images[0]?.bytes.equals(PNG_1X1)).toBe(true);
    expect(result.images[0]?.mimeType).toBe('image/png');
    expect(result.usage).toEqual({ inputTokens: 600, outputTokens: 1120, imageTokens: 1120 });
    expect(result.requestId).toBe('resp-1');

    const sent = server.requests[0];
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe('/v1beta/models/gemini-3-pro-image:generateContent');
    expect(sent?.headers['x-goog-api-key']).toBe('g-key-1');
    expect(sent?.json()).toEqual({
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Studio shot of the sneaker in image 1 on white seamless' },
            { inlineData: { mimeType: 'image/png', data: PNG_1X1_BASE64 } },
          ],
        },
      ],
      generationConfig: {
        responseModalities: ['TEXT', 'IMAGE'],
        imageConfig: { aspectRatio: '4:5', imageSize: '2K' },
      },
    });
  });

  it('omits imageSize when told to (gemini-2.5-flash-image) and aspectRatio when not given', async () => {
    server.reply({ body: imageResponse });
    const model = createGeminiModel({ baseUrl: server.url, sendImageSize: false });
    await model.generate(request({ upstreamModel: 'gemini-2.5-flash-image', aspectRatio: undefined }));
    expect(server.requests[0]?.json()).toMatchObject({
      generationConfig: { responseModalities: ['TEXT', 'IMAGE'] },
    });
    expect(server.requests[0]?.json()).not.toHaveProperty('generationConfig.imageConfig');
  });

  it('reads a markdown image from a text part (proxies on the native path)', async () => {
    server.reply({
      body: {
        candidates: [
          {
            content: { parts: [{ text: `done ![image](data:image/png;base64,${PNG_1X1_BASE64})` }] },
            finishReason: 'STOP',
          },
        ],
      },
    });
    const result = await createGeminiModel({ baseUrl: server.url }).generate(request());
    expect(result.images[0]?.mimeType).toBe('image/png');
  });

  it('refuses n > 1 without calling the provider', async () => {
    const err = await failure(createGeminiModel({ baseUrl: server.url }).generate(request({ n: 2 })));
    expect(err.code).toBe('config_error');
    expect(server.requests).toHaveLength(0);
  });

  it('makes exactly one request on a 429 and returns the RetryInfo hint', async () => {
    server.reply({
      status: 429,
      body: {
        error: {
          code: 429,
          status: 'RESOURCE_EXHAUSTED',
          message: 'quota',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
              violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }],
            },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' },
          ],
        },
      },
    });
    const err = await failure(createGeminiModel({ baseUrl: server.url }).generate(request()));
    expect(err).toMatchObject({
      code: 'rate_limited',
      scope: 'key',
      retryAfterMs: 3000,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('maps a 200 block to content_blocked and a 500 to a retryable error, one request each', async () => {
    server.reply(
      { body: { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } } },
      { status: 500, body: 'oops' },
    );
    const model = createGeminiModel({ baseUrl: server.url });
    expect(await failure(model.generate(request()))).toMatchObject({
      code: 'content_blocked',
      retryable: false,
    });
    expect(await failure(model.generate(request()))).toMatchObject({
      code: 'provider_error',
      retryable: true,
      status: 500,
    });
    expect(server.requests).toHaveLength(2);
  });

  it('reports its own deadline as timeout, a reset as a retryable network error', async () => {
    server.reply({ hang: true }, { reset: true });
    const model = createGeminiModel({ baseUrl: server.url });
    expect(await failure(model.generate(request({ timeoutMs: 150 })))).toMatchObject({
      code: 'timeout',
      retryable: true,
    });
    expect(await failure(model.generate(request()))).toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
  });

  it('reports a caller abort as a provider_error, not a timeout', async () => {
    server.reply({ hang: true });
    const controller = new AbortController();
    const pending = createGeminiModel({ baseUrl: server.url }).generate(
      request({ signal: controller.signal }),
    );
    await vi.waitFor(() => expect(server.requests).toHaveLength(1)); // in flight, then cancelled
    controller.abort();
    const err = await failure(pending);
    expect(err.code).toBe('provider_error');
    expect(err.message).toContain('aborted');
  });

  it('works with an injected fetch', async () => {
    const calls: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response(JSON.stringify(imageResponse), { status: 200 });
    };
    const result = await createGeminiModel({ baseUrl: 'https://gemini.invalid', fetch: fakeFetch }).generate(
      request(),
    );
    expect(result.images).toHaveLength(1);
    expect(calls).toEqual(['https://gemini.invalid/v1beta/models/gemini-3-pro-image:generateContent']);
  });
});
