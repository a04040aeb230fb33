import { describe, expect, it } from 'vitest';
import { openAiChatError } from './openai-chat-error.js';

const routerError = (code: number, message: string, metadata?: unknown) => ({
  error: { code, message, ...(metadata === undefined ? {} : { metadata }) },
});

describe('openAiChatError: HTTP errors', () => {
  it('402 (no credits) is terminal for the provider', () => {
    const err = openAiChatError(
      402,
      routerError(402, 'Insufficient credits. Add more at https://openrouter.ai/settings/credits'),
    );
    expect(err).toMatchObject({ code: 'quota_exhausted', retryable: false, scope: 'provider', status: 402 });
  });

  it('403 with moderation metadata is content_blocked; a bare 403 a key problem', () => {
    const flagged = routerError(403, 'Your chosen model requires moderation and your input was flagged', {
      reasons: ['illicit'],
      flagged_input: 'forbidden thing',
      provider_name: 'Google',
      model_slug: 'google/gemini-3-pro-image-preview',
    });
    expect(openAiChatError(403, flagged)).toMatchObject({
      code: 'content_blocked',
      retryable: false,
      scope: 'item',
    });
    expect(openAiChatError(403, routerError(403, 'no access'))).toMatchObject({
      code: 'config_error',
      scope: 'key',
    });
  });

  it('429 with Retry-After is a key-scoped wait', () => {
    const err = openAiChatError(
      429,
      routerError(429, 'Rate limit exceeded'),
      new Headers({ 'retry-after': '4' }),
    );
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, scope: 'key', retryAfterMs: 4000 });
  });

  it('502 (model failed upstream) is retryable; 503 with Retry-After a wait, without it a backoff', () => {
    const failed = routerError(502, 'Provider returned error', {
      provider_name: 'Google',
      raw: '{"error":{}}',
    });
    expect(openAiChatError(502, failed)).toMatchObject({
      code: 'provider_error',
      retryable: true,
      scope: 'item',
    });
    expect(openAiChatError(502, failed).message).toContain('upstream Google');
    const none = routerError(503, 'No available provider');
    expect(openAiChatError(503, none, new Headers({ 'retry-after': '2' }))).toMatchObject({
      code: 'rate_limited',
      retryAfterMs: 2000,
    });
    expect(openAiChatError(503, none)).toMatchObject({ code: 'provider_error', retryable: true });
  });

  it('401 key, 404 model, 408 timeout, 400 item', () => {
    expect(openAiChatError(401, routerError(401, 'No auth credentials found'))).toMatchObject({
      code: 'config_error',
      scope: 'key',
    });
    expect(openAiChatError(404, routerError(404, 'No endpoints found'))).toMatchObject({
      code: 'config_error',
      scope: 'model',
    });
    expect(openAiChatError(408, routerError(408, 'timeout'))).toMatchObject({
      code: 'timeout',
      retryable: true,
    });
    expect(openAiChatError(400, routerError(400, 'bad'))).toMatchObject({
      code: 'invalid_prompt',
      retryable: false,
      scope: 'item',
    });
  });
});

describe('openAiChatError: 200 without an image', () => {
  const completion = (message: unknown, finish = 'stop', native?: string) => ({
    id: 'gen-1',
    choices: [
      { finish_reason: finish, ...(native === undefined ? {} : { native_finish_reason: native }), message },
    ],
  });

  it('a 200 with an error object is a retryable provider_error (numeric code read as the status)', () => {
    const late = { id: 'gen-2', error: { code: 'server_error', message: 'Upstream failed mid-stream' } };
    expect(openAiChatError(200, late)).toMatchObject({
      code: 'provider_error',
      retryable: true,
      requestId: 'gen-2',
    });
    expect(openAiChatError(200, { error: { code: 502, message: 'Provider returned error' } })).toMatchObject({
      code: 'provider_error',
      retryable: true,
      status: 502,
    });
    expect(openAiChatError(200, { error: { code: 402, message: 'credits' } })).toMatchObject({
      code: 'quota_exhausted',
    });
  });

  it('finish_reason "error" is a retryable provider_error', () => {
    expect(openAiChatError(200, completion({ role: 'assistant', content: '' }, 'error'))).toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
  });

  it('a Gemini block reason passed through as native_finish_reason is content_blocked', () => {
    expect(openAiChatError(200, completion({ content: '' }, 'stop', 'IMAGE_SAFETY'))).toMatchObject({
      code: 'content_blocked',
      providerCode: 'IMAGE_SAFETY',
    });
    expect(openAiChatError(200, completion({ content: '' }, 'content_filter'))).toMatchObject({
      code: 'content_blocked',
    });
  });

  it('text only is a retryable no_image', () => {
    const err = openAiChatError(
      200,
      completion({ role: 'assistant', content: 'I could not produce an image.' }, 'stop', 'NO_IMAGE'),
    );
    expect(err).toMatchObject({
      code: 'no_image',
      retryable: true,
      scope: 'item',
      providerCode: 'NO_IMAGE',
      requestId: 'gen-1',
    });
    expect(err.message).toContain('I could not produce an image.');
  });
});
