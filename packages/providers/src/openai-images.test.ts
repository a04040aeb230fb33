import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiImagesModel } from './openai-images.js';
import { JPEG_HEAD, PNG_1X1, PNG_1X1_BASE64 } from './test-support/fixtures.js';
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
  upstreamModel: 'gpt-image-2',
  prompt: 'A ceramic mug on a walnut table',
  size: '4K',
  aspectRatio: '16:9',
  n: 2,
  referenceImages: [],
  apiKey: 'sk-test-1',
  timeoutMs: 5000,
  ...over,
});

const ok = (count: number) => ({
  status: 200,
  headers: {
    'x-request-id': 'req_abc',
    'x-ratelimit-remaining-requests': '4',
    'x-ratelimit-reset-requests': '12s',
  },
  body: {
    created: 1_790_000_000,
    data: Array.from({ length: count }, () => ({ b64_json: PNG_1X1_BASE64 })),
    usage: { input_tokens: 50, output_tokens: 4160, total_tokens: 4210 },
  },
});

const model = () => createOpenAiImagesModel({ baseUrl: `${server.url}/v1` });

describe('createOpenAiImagesModel', () => {
  it('calls images/generations with model, n and a computed size, and reads headers', async () => {
    server.reply(ok(2));
    const result = await model().generate(request());
    expect(result.images).toHaveLength(2);
    expect(result.images[0]?.bytes.equals(PNG_1X1)).toBe(true);
    expect(result.requestId).toBe('req_abc');
    expect(result.usage).toMatchObject({ inputTokens: 50, outputTokens: 4160 });

    const sent = server.requests[0];
    expect(sent?.url).toBe('/v1/images/generations');
    expect(sent?.headers.authorization).toBe('Bearer sk-test-1');
    expect(sent?.headers['x-stainless-retry-count']).toBe('0');
    expect(sent?.json()).toEqual({
      model: 'gpt-image-2',
      prompt: 'A ceramic mug on a walnut table',
      n: 2,
      size: '3840x2160',
    });
  });

  it('maps sizes for fixed-size models', async () => {
    server.reply(ok(1));
    await model().generate(
      request({ upstreamModel: 'gpt-image-1.5', size: '1K', aspectRatio: '9:16', n: 1 }),
    );
    expect(server.requests[0]?.json()).toMatchObject({ size: '1024x1536' });
  });

  it('sends reference images to images/edits as image[] multipart files', async () => {
    server.reply(ok(1));
    await model().generate(
      request({
        n: 1,
        referenceImages: [
          { bytes: PNG_1X1, mimeType: 'image/png' },
          { bytes: JPEG_HEAD, mimeType: 'image/jpeg' },
        ],
      }),
    );
    const sent = server.requests[0];
    expect(sent?.url).toBe('/v1/images/edits');
    expect(String(sent?.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    const form = sent?.body.toString('latin1') ?? '';
    expect(form).toContain('name="image[]"; filename="reference-0.png"');
    expect(form).toContain('name="image[]"; filename="reference-1.jpg"');
    expect(form).toContain('Content-Type: image/jpeg');
    expect(form).toMatch(/name="model"\r\n\r\ngpt-image-2\r\n/);
    expect(form).toMatch(/name="size"\r\n\r\n3840x2160\r\n/);
  });

  it('downloads url outputs, within the size cap', async () => {
    server.reply(
      { body: { created: 1, data: [{ url: `${server.url}/files/0.png` }] } },
      { headers: { 'content-type': 'image/png' }, body: PNG_1X1 },
    );
    const result = await model().generate(request({ n: 1 }));
    expect(result.images[0]?.bytes.equals(PNG_1X1)).toBe(true);

    server.reply(
      { body: { created: 1, data: [{ url: `${server.url}/files/1.png` }] } },
      { headers: { 'content-type': 'image/png' }, body: Buffer.concat([PNG_1X1, Buffer.alloc(4096)]) },
    );
    const small = createOpenAiImagesModel({ baseUrl: `${server.url}/v1`, maxDownloadBytes: 1024 });
    expect(await failure(small.generate(request({ n: 1 })))).toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
  });

  it('makes one request on 429 insufficient_quota (SDK retries off) and ends the provider', async () => {
    server.reply({
      status: 429,
      body: {
        error: {
          message: 'You exceeded your current quota',
          type: 'insufficient_quota',
          code: 'insufficient_quota',
          param: null,
        },
      },
    });
    const err = await failure(model().generate(request()));
    expect(err).toMatchObject({ code: 'quota_exhausted', retryable: false, scope: 'provider', status: 429 });
    expect(server.requests).toHaveLength(1);
  });

  it('makes one request on 429 rate_limit_exceeded and passes the retry-after-ms hint', async () => {
    server.reply({
      status: 429,
      headers: { 'retry-after-ms': '800', 'retry-after': '1', 'x-request-id': 'req_429' },
      body: {
        error: {
          message: 'Rate limit reached for images per min (IPM): Limit 5',
          type: 'requests',
          code: 'rate_limit_exceeded',
        },
      },
    });
    const err = await failure(model().generate(request()));
    expect(err).toMatchObject({
      code: 'rate_limited',
      scope: 'key',
      retryAfterMs: 800,
      requestId: 'req_429',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('makes one request on 500', async () => {
    server.reply({ status: 500, body: { error: { message: 'server error', type: 'server_error' } } });
    expect(await failure(model().generate(request()))).toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('maps moderation_blocked, model_not_found and an empty 200', async () => {
    server.reply(
      {
        status: 400,
        body: {
          error: { message: 'rejected', type: 'image_generation_user_error', code: 'moderation_blocked' },
        },
      },
      {
        status: 404,
        body: {
          error: {
            message: 'The model `gpt-image-1` does not exist',
            type: 'invalid_request_error',
            code: 'model_not_found',
          },
        },
      },
      { body: { created: 1, data: [] } },
    );
    expect(await failure(model().generate(request()))).toMatchObject({
      code: 'content_blocked',
      retryable: false,
    });
    expect(await failure(model().generate(request()))).toMatchObject({
      code: 'config_error',
      scope: 'model',
    });
    expect(await failure(model().generate(request()))).toMatchObject({ code: 'no_image', retryable: true });
  });

  it('reports its deadline as timeout and a reset as a retryable network error', async () => {
    server.reply({ hang: true }, { reset: true });
    expect(await failure(model().generate(request({ timeoutMs: 150 })))).toMatchObject({
      code: 'timeout',
      retryable: true,
    });
    expect(await failure(model().generate(request()))).toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
    expect(server.requests).toHaveLength(2);
  });

  it('refuses n above 10 without calling the provider', async () => {
    expect(await failure(model().generate(request({ n: 11 })))).toMatchObject({ code: 'config_error' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('createOpenAiImagesModel: local failures', () => {
  it('turns the SDK refusing an empty key into a config error of that key', async () => {
    const err = await failure(
      createOpenAiImagesModel({ baseUrl: 'http://127.0.0.1:9' }).generate(request({ apiKey: '' })),
    );
    expect(err).toMatchObject({ code: 'config_error', scope: 'key', retryable: false });
  });
});
