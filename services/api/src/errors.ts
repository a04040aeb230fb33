import type { FieldProblem } from '@pixelmill/core';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Error codes of the API's JSON error shape (api.md "Errors"). */
export type ApiErrorCode =
  | 'invalid_request'
  | 'unknown_model'
  | 'model_unavailable'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'idempotency_conflict'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'service_unavailable'
  | 'endpoint_disabled'
  | 'limit_exceeded'
  | 'tenant_quota_exceeded'
  | 'internal_error';

/** The one exception the API throws; `onError` renders it as `{"error": {code, message, details}}`. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    message: string,
    readonly details: FieldProblem[] = [],
    /** Response headers of this error (e.g. Retry-After of a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }

  body(): { error: { code: ApiErrorCode; message: string; details: FieldProblem[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const invalidRequest = (details: FieldProblem[]): ApiError =>
  new ApiError(
    400,
    'invalid_request',
    details.length === 1
      ? `Invalid request: ${details[0]?.path} ${details[0]?.message}`
      : `Invalid request: ${details.length} problems`,
    details,
  );

export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `${what} not found`);
