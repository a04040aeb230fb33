import type { components } from './openapi.js';

export type ErrorBody = components['schemas']['Error'];
export type FieldProblem = components['schemas']['FieldProblem'];

/** An answer outside 2xx, in the API's error shape (`code`, `message`, `details` by field path). */
export class PixelmillError extends Error {
  override readonly name = 'PixelmillError';
  readonly code: string;
  readonly details: FieldProblem[];
  /** Seconds from Retry-After (429 tenant_quota_exceeded, 503 service_unavailable), when sent. */
  readonly retryAfterS: number | undefined;

  constructor(
    readonly status: number,
    body: ErrorBody | undefined,
    headers: Headers,
  ) {
    super(body?.error.message ?? `HTTP ${status}`);
    this.code = body?.error.code ?? 'http_error';
    this.details = body?.error.details ?? [];
    const retry = Number(headers.get('retry-after'));
    this.retryAfterS = headers.has('retry-after') && Number.isFinite(retry) ? retry : undefined;
  }
}

/** The error shape when a body is one, else undefined (a proxy's HTML page, say). */
export function asErrorBody(value: unknown): ErrorBody | undefined {
  if (typeof value !== 'object' || value === null || !('error' in value)) return undefined;
  const error = value.error;
  if (typeof error !== 'object' || error === null || !('code' in error) || !('message' in error))
    return undefined;
  if (typeof error.code !== 'string' || typeof error.message !== 'string') return undefined;
  const details = 'details' in error && Array.isArray(error.details) ? (error.details as FieldProblem[]) : [];
  return { error: { code: error.code, message: error.message, details } };
}
