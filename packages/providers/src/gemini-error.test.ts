import { describe, expect, it } from 'vitest';
import { geminiError } from './gemini-error.js';

const googleError = (code: number, status: string, message: string, details?: unknown[]) => ({
  error: { code, message, status, ...(details === undefined ? {} : { details }) },
});

// 2026-11-24 12:00 UTC = 04:00 PST: 20 h to midnight Pacific.
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

describe('geminiError: HTTP errors', () => {
  it('429 with PerMinute QuotaFailure and RetryInfo is a key-scoped wait with the hint', () => {
    const body = googleError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota…', [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          { quotaId: 'GenerateContentPaidTierInputTokensPerModelPerMinute', quotaValue: '1000000' },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12.771204034s' },
    ]);
    const err = geminiError(429, body, new Headers(), NOW);
    expect(err).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      scope: 'key',
      retryAfterMs: 12_772,
      status: 429,
      providerCode: 'RESOURCE_EXHAUSTED',
    });
  });

  it('429 PerDay quota parks the key until midnight Pacific, ignoring the short retryDelay', () => {
    const body = googleError(429, 'RESOURCE_EXHAUSTED', 'quota', [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
            quotaValue: '250',
            quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' },
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '22s' },
    ]);
    const err = geminiError(429, body, undefined, NOW);
    expect(err).toMatchObject({
      code: 'quota_exhausted',
      retryable: false,
      scope: 'key',
    });
    expect(err.retryAfterMs).toBe(20 * 3_600_000);
  });

  it('429 "prepayment credits are depleted" without details is terminal for the provider', () => {
    const body = googleError(
      429,
      'RESOURCE_EXHAUSTED',
      'Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.',
    );
    expect(geminiError(429, body)).toMatchObject({
      code: 'quota_exhausted',
      retryable: false,
      scope: 'provider',
    });
  });

  it('429 spend cap without details is terminal for the provider', () => {
    const body = googleError(
      429,
      'RESOURCE_EXHAUSTED',
      'Your project has exceeded its monthly spending cap.',
    );
    expect(geminiError(429, body)).toMatchObject({ code: 'quota_exhausted', scope: 'provider' });
  });

  it('bare 429 "Resource has been exhausted" is a retryable key-scoped wait, using Retry-After if any', () => {
    const body = googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).');
    expect(geminiError(429, body)).toMatchObject({ code: 'rate_limited', retryable: true, scope: 'key' });
    expect(geminiError(429, body).retryAfterMs).toBeUndefined();
    expect(geminiError(429, body, new Headers({ 'retry-after': '7' })).retryAfterMs).toBe(7000);
  });

  it('400 API_KEY_INVALID is a config error of that key', () => {
    const body = googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
      },
    ]);
    expect(geminiError(400, body)).toMatchObject({ code: 'config_error', retryable: false, scope: 'key' });
  });

  it('400 FAILED_PRECONDITION (billing / region) is a config error of the key', () => {
    const body = googleError(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.');
    expect(geminiError(400, body)).toMatchObject({ code: 'config_error', scope: 'key' });
  });

  it('400 INVALID_ARGUMENT on generation_config is a model config error', () => {
    const body = googleError(400, 'INVALID_ARGUMENT', 'Invalid value', [
      {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [{ field: 'generation_config.image_config.image_size', description: 'bad' }],
      },
    ]);
    expect(geminiError(400, body)).toMatchObject({ code: 'config_error', scope: 'model' });
  });

  it('other 400 INVALID_ARGUMENT is about the item content', () => {
    const body = googleError(400, 'INVALID_ARGUMENT', 'Unable to process input image.');
    expect(geminiError(400, body)).toMatchObject({ code: 'invalid_prompt', retryable: false, scope: 'item' });
  });

  it('403 is a key problem, 404 (retired model) a model problem', () => {
    expect(geminiError(403, googleError(403, 'PERMISSION_DENIED', 'denied'))).toMatchObject({
      code: 'config_error',
      scope: 'key',
    });
    expect(
      geminiError(404, googleError(404, 'NOT_FOUND', 'models/gemini-3-pro-image-preview is not found')),
    ).toMatchObject({
      code: 'config_error',
      retryable: false,
      scope: 'model',
    });
  });

  it('500/503 are retryable provider errors, 504 a timeout; 503 with Retry-After is a wait', () => {
    expect(geminiError(500, googleError(500, 'INTERNAL', 'x'))).toMatchObject({
      code: 'provider_error',
      retryable: true,
      scope: 'item',
    });
    expect(geminiError(503, googleError(503, 'UNAVAILABLE', 'The model is overloaded.'))).toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
    expect(geminiError(504, googleError(504, 'DEADLINE_EXCEEDED', 'x'))).toMatchObject({
      code: 'timeout',
      retryable: true,
    });
    expect(geminiError(503, undefined, new Headers({ 'retry-after': '3' }))).toMatchObject({
      code: 'rate_limited',
      scope: 'key',
      retryAfterMs: 3000,
    });
  });

  it('a non-JSON error page still classifies by status', () => {
    expect(geminiError(502, undefined)).toMatchObject({
      code: 'provider_error',
      retryable: true,
      providerCode: '502',
    });
  });
});

describe('geminiError: 200 without an image', () => {
  it('promptFeedback.blockReason is content_blocked, terminal', () => {
    const err = geminiError(200, { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } });
    expect(err).toMatchObject({
      code: 'content_blocked',
      retryable: false,
      scope: 'item',
      providerCode: 'PROHIBITED_CONTENT',
    });
  });

  it.each([
    'IMAGE_SAFETY',
    'SAFETY',
    'IMAGE_PROHIBITED_CONTENT',
    'BLOCKLIST',
    'SPII',
    'RECITATION',
    'IMAGE_RECITATION',
  ])('finishReason %s is content_blocked', (finishReason) => {
    const body = {
      candidates: [{ finishReason, finishMessage: 'Unable to show the generated image.', index: 0 }],
    };
    expect(geminiError(200, body)).toMatchObject({
      code: 'content_blocked',
      retryable: false,
      providerCode: finishReason,
    });
  });

  it.each(['NO_IMAGE', 'IMAGE_OTHER', 'OTHER'])('finishReason %s is a retryable no_image', (finishReason) => {
    const body = { candidates: [{ finishReason, index: 0 }] };
    expect(geminiError(200, body)).toMatchObject({
      code: 'no_image',
      retryable: true,
      scope: 'item',
      providerCode: finishReason,
    });
  });

  it('STOP with text only is a retryable no_image, quoting the text', () => {
    const body = {
      candidates: [{ content: { parts: [{ text: 'I can describe it instead.' }] }, finishReason: 'STOP' }],
    };
    const err = geminiError(200, body);
    expect(err).toMatchObject({ code: 'no_image', retryable: true, providerCode: 'STOP' });
    expect(err.message).toContain('I can describe it instead.');
  });

  it('no candidates at all is no_image; a non-JSON 200 is a provider_error', () => {
    expect(geminiError(200, {})).toMatchObject({ code: 'no_image', providerCode: 'NO_CANDIDATES' });
    expect(geminiError(200, undefined)).toMatchObject({ code: 'provider_error', retryable: true });
  });
});
