import { describe, expect, it } from 'vitest';
import { openAiImagesError } from './openai-images-error.js';

const openAiBody = (error: Record<string, unknown>) => ({ error: { message: 'm', param: null, ...error } });

describe('openAiImagesError', () => {
  it.each([
    'insufficient_quota',
    'credit_balance_exhausted',
    'organization_spend_limit_exceeded',
    'project_spend_limit_exceeded',
  ])('429 type insufficient_quota with code %s is terminal for the provider', (code) => {
    const err = openAiImagesError(429, openAiBody({ type: 'insufficient_quota', code }), new Headers());
    expect(err).toMatchObject({
      code: 'quota_exhausted',
      retryable: false,
      scope: 'provider',
      providerCode: code,
    });
  });

  it('429 rate_limit_exceeded is a key-scoped wait; retry-after-ms wins over retry-after', () => {
    const body = openAiBody({
      type: 'requests',
      code: 'rate_limit_exceeded',
      message: 'Rate limit reached for gpt-image-2 on images per min (IPM): Limit 5, Used 5, Requested 1.',
    });
    const headers = new Headers({ 'retry-after-ms': '1500', 'retry-after': '9', 'x-request-id': 'req_123' });
    expect(openAiImagesError(429, body, headers)).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      scope: 'key',
      retryAfterMs: 1500,
      requestId: 'req_123',
    });
  });

  it('retry-after as seconds or an HTTP date', () => {
    const body = openAiBody({ type: 'requests', code: 'rate_limit_exceeded' });
    expect(openAiImagesError(429, body, new Headers({ 'retry-after': '2' })).retryAfterMs).toBe(2000);
    const date = new Date(Date.now() + 30_000).toUTCString();
    const ms = openAiImagesError(429, body, new Headers({ 'retry-after': date })).retryAfterMs ?? 0;
    expect(ms).toBeGreaterThan(28_000);
    expect(ms).toBeLessThanOrEqual(30_000);
  });

  it('400 moderation_blocked is content_blocked', () => {
    const body = openAiBody({
      type: 'image_generation_user_error',
      code: 'moderation_blocked',
      message: 'Your request was rejected by the safety system.',
      moderation_details: { categories: ['sexual'] },
    });
    expect(openAiImagesError(400, body)).toMatchObject({
      code: 'content_blocked',
      retryable: false,
      scope: 'item',
    });
  });

  it('400 on the prompt is invalid_prompt; on our parameters a model config error', () => {
    const prompt = openAiBody({
      type: 'invalid_request_error',
      code: 'string_above_max_length',
      param: 'prompt',
    });
    expect(openAiImagesError(400, prompt)).toMatchObject({ code: 'invalid_prompt', scope: 'item' });
    const size = openAiBody({ type: 'invalid_request_error', code: 'invalid_value', param: 'size' });
    expect(openAiImagesError(400, size)).toMatchObject({ code: 'config_error', scope: 'model' });
  });

  it('404 model_not_found is a model config error; 401 a key one', () => {
    const notFound = openAiBody({
      type: 'invalid_request_error',
      code: 'model_not_found',
      message: 'The model `gpt-image-1` does not exist',
    });
    expect(openAiImagesError(404, notFound)).toMatchObject({
      code: 'config_error',
      retryable: false,
      scope: 'model',
    });
    const badKey = openAiBody({ type: 'invalid_request_error', code: 'invalid_api_key' });
    expect(openAiImagesError(401, badKey)).toMatchObject({ code: 'config_error', scope: 'key' });
  });

  it('5xx is retryable; 200 without images is no_image', () => {
    expect(openAiImagesError(500, openAiBody({ type: 'server_error' }))).toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
    expect(openAiImagesError(200, { created: 1, data: [] })).toMatchObject({
      code: 'no_image',
      retryable: true,
    });
  });
});
