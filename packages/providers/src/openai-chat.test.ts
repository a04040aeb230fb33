import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiChatModel } from './openai-chat.js';
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
  upstreamModel: 'google/gemini-3-pro-image-preview',
  prompt: 'Flat lay of the watch in image 1',
  size: '2K',
  aspectRatio: '4:5',
  n: 1,
  referenceImages: [],
  apiKey: 'or-key-1',
  timeoutMs: 5000,
  ...over,
});

const completion = (message: Record<string, unknown>, native = 'STOP') => ({
  body: {
    id: 'gen-123',
    choices: [
      {
        finish_reason: 'stop',
        native_finish_reason: native,
        index: 0,
        message: { role: 'assistant', ...message },
      },
    ],
    usage: { prompt_tokens: 20, completion_tokens: 1300, completion_tokens_details: { image_tokens: 1290 } },
  },
});
const PNG_DATA_URL = `data:image/png;base64,${PNG_1X1_BASE64}`;

const model = () => createOpenAiChatModel({ baseUrl: `${server.url}/api/v1` });

describe('createOpenAiChatModel: request', () => {
  it('posts chat/completions with modalities, image_config and data-URL references', async () => {
    server.reply(
      completion({ content: 'Here.', images: [{ type: 'image_url', image_url: { url: PNG_DATA_URL } }] }),
    );
    const result = await model().generate(
      request({ referenceImages: [{ bytes: PNG_1X1, mimeType: 'image/png' }] }),
    );
    expect(result).toMatchObject({
      requestId: 'gen-123',
      usage: { inputTokens: 20, outputTokens: 1300, imageTokens: 1290 },
    });

    const sent = server.requests[0];
    expect(sent?.url).toBe('/api/v1/chat/completions');
    expect(sent?.headers.authorization).toBe('Bearer or-key-1');
    expect(sent?.json()).toEqual({
      model: 'google/gemini-3-pro-image-preview',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Flat lay of the watch in image 1' },
            { type: 'image_url', image_url: { url: PNG_DATA_URL } },
          ],
        },
      ],
      modalities: ['image', 'text'],
      image_config: { aspect_ratio: '4:5', image_size: '2K' },
      stream: false,
    });
  });

  it('spells the 512 tier 0.5K, and can leave image_size out', async () => {
    server.reply(completion({ images: [{ image_url: { url: PNG_DATA_URL } }] }));
    server.reply(completion({ images: [{ image_url: { url: PNG_DATA_URL } }] }));
    await model().generate(request({ size: '512' }));
    await createOpenAiChatModel({ baseUrl: server.url, sendImageSize: false }).generate(
      request({ aspectRatio: undefined }),
    );
    expect(server.requests[0]?.json()).toMatchObject({ image_config: { image_size: '0.5K' } });
    expect(server.requests[1]?.json()).not.toHaveProperty('image_config');
  });
});

describe('createOpenAiChatModel: where the image is', () => {
  it('message.images[] data URL, with the MIME type sniffed from the bytes', async () => {
    const mislabeled = `data:image/png;base64,${JPEG_HEAD.toString('base64')}`;
    server.reply(
      completion({ content: '', images: [{ type: 'image_url', image_url: { url: mislabeled } }] }),
    );
    const result = await model().generate(request());
    expect(result.images[0]?.mimeType).toBe('image/jpeg');
  });

  it('content[] image_url parts', async () => {
    server.reply(
      completion({
        content: [
          { type: 'text', text: 'ok' },
          { type: 'image_url', image_url: { url: PNG_DATA_URL } },
        ],
      }),
    );
    expect((await model().generate(request())).images[0]?.bytes.equals(PNG_1X1)).toBe(true);
  });

  it('markdown data URL in the content string', async () => {
    server.reply(completion({ content: `Here is your image.\n\n![image](${PNG_DATA_URL})` }));
    expect((await model().generate(request())).images[0]?.bytes.equals(PNG_1X1)).toBe(true);
  });

  it('markdown http URL in the content string, downloaded', async () => {
    server.reply(completion({ content: `![image](${server.url}/oss/abc.png)` }), {
      headers: { 'content-type': 'image/png' },
      body: PNG_1X1,
    });
    const result = await model().generate(request());
    expect(result.images[0]?.bytes.equals(PNG_1X1)).toBe(true);
    expect(server.requests[1]?.method).toBe('GET');
    expect(server.requests[1]?.url).toBe('/oss/abc.png');
  });

  it('broken base64 counts as no image', async () => {
    server.reply(completion({ content: 'x', images: [{ image_url: { url: 'data:image/png;base64,%%%' } }] }));
    expect(await failure(model().generate(request()))).toMatchObject({ code: 'no_image', retryable: true });
  });
});

describe('createOpenAiChatModel: failures', () => {
  it('402 ends the provider after one request', async () => {
    server.reply({ status: 402, body: { error: { code: 402, message: 'Insufficient credits' } } });
    expect(await failure(model().generate(request()))).toMatchObject({
      code: 'quota_exhausted',
      scope: 'provider',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('429 with Retry-After, 403 moderation, 200 with error, text only', async () => {
    server.reply(
      {
        status: 429,
        headers: { 'retry-after': '3' },
        body: { error: { code: 429, message: 'Rate limit exceeded' } },
      },
      {
        status: 403,
        body: {
          error: { code: 403, message: 'flagged', metadata: { reasons: ['illicit'], flagged_input: 'x' } },
        },
      },
      { body: { id: 'gen-9', error: { code: 'server_error', message: 'Provider disconnected' } } },
      completion({ content: 'I could not produce an image for this request.' }, 'NO_IMAGE'),
    );
    expect(await failure(model().generate(request()))).toMatchObject({
      code: 'rate_limited',
      retryAfterMs: 3000,
    });
    expect(await failure(model().generate(request()))).toMatchObject({ code: 'content_blocked' });
    expect(await failure(model().generate(request()))).toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
    expect(await failure(model().generate(request()))).toMatchObject({
      code: 'no_image',
      providerCode: 'NO_IMAGE',
    });
    expect(server.requests).toHaveLength(4);
  });

  it('times out on a hanging proxy', async () => {
    server.reply({ hang: true });
    expect(await failure(model().generate(request({ timeoutMs: 150 })))).toMatchObject({ code: 'timeout' });
  });
});
