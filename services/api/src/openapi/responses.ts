/**
 * @module Response entries shared by the routes' OpenAPI declarations: JSON bodies with the headers
 * every answer carries, and the error statuses of the `/v1` middleware (auth, Redis gate, body cap).
 */
import type { z } from '@hono/zod-openapi';
import { ErrorSchema } from './schemas.js';

type Header = { $ref: string } | { description: string; schema: { type: 'integer' | 'string' } };

const requestIdHeader: Header = { $ref: '#/components/headers/X-Request-Id' };
export const retryAfterHeader: Header = { $ref: '#/components/headers/Retry-After' };

/** Headers as components (`components.headers`), referenced by the entries below. */
export const headerComponents = {
  'X-Request-Id': {
    description:
      'The request id (the one sent as x-request-id, or a new one): quote it when reporting a problem',
    schema: { type: 'string' as const },
  },
  'Retry-After': {
    description: 'Seconds to wait before sending the request again',
    schema: { type: 'integer' as const, minimum: 0 },
  },
};

export function jsonResponse(
  description: string,
  schema: z.ZodType,
  headers: Record<string, Header> = {},
): {
  description: string;
  headers: Record<string, Header>;
  content: { 'application/json': { schema: z.ZodType } };
} {
  return {
    description,
    headers: { 'x-request-id': requestIdHeader, ...headers },
    content: { 'application/json': { schema } },
  };
}

export const errorResponse = (description: string, headers: Record<string, Header> = {}) =>
  jsonResponse(description, ErrorSchema, headers);

export const BODY_CAP_TEXT =
  'payload_too_large: the body is past its cap (64 KiB; POST /v1/batches: PIXELMILL_MAX_BODY_BYTES, 64 MiB by default)';

/** What every `/v1` route can answer besides its own statuses. */
export const v1Errors = {
  401: errorResponse('unauthorized: missing or wrong API key'),
  413: errorResponse(BODY_CAP_TEXT),
  500: errorResponse('internal_error'),
  503: errorResponse('service_unavailable: Redis is unreachable; retry after Retry-After seconds', {
    'Retry-After': retryAfterHeader,
  }),
};

export const badRequest = (what = 'invalid_request: each bad field named by path in details') =>
  errorResponse(what);
export const notFoundResponse = errorResponse("not_found (also for another tenant's id)");
export const unsupportedMediaType = errorResponse('unsupported_media_type: send application/json');
