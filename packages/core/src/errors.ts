/**
 * The one error type every provider adapter produces. Retryability, the server's wait hint and the
 * scope of the problem are decided once, where the provider's response is parsed, so the worker and
 * the limiter never have to interpret provider-specific bodies.
 */

/** Codes an item can end with (api.md "Items and outputs"), plus control-flow codes for waiting. */
export const itemErrorCodes = [
  'content_blocked',
  'invalid_prompt',
  'provider_error',
  'quota_exhausted',
  'rate_limited',
  'timeout',
  'no_image',
  'config_error',
  'reference_image_error',
  'storage_error',
  'storage_rejected',
  'expired',
  'internal_error',
] as const;
export type ItemErrorCode = (typeof itemErrorCodes)[number];

/** What to slow down or pause: only this item, the API key (Gemini: its project), the model, or the provider. */
export type ErrorScope = 'item' | 'key' | 'model' | 'provider';

export interface ProviderErrorInit {
  code: ItemErrorCode;
  message: string;
  retryable: boolean;
  scope: ErrorScope;
  /** Server hint (retry-after, retry-after-ms, RetryInfo) in ms; undefined when the server gave none. */
  retryAfterMs?: number | undefined;
  /** HTTP status, when there was a response. */
  status?: number | undefined;
  /** The provider's own error code or status string (e.g. RESOURCE_EXHAUSTED, insufficient_quota). */
  providerCode?: string | undefined;
  requestId?: string | undefined;
  cause?: unknown;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly code: ItemErrorCode;
  readonly retryable: boolean;
  readonly scope: ErrorScope;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  readonly providerCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(init: ProviderErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.retryable = init.retryable;
    this.scope = init.scope;
    this.retryAfterMs = init.retryAfterMs;
    this.status = init.status;
    this.providerCode = init.providerCode;
    this.requestId = init.requestId;
  }

  toJSON(): { code: ItemErrorCode; message: string; retryable: boolean } {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** A key the provider refused as such: invalid, revoked or forbidden, or its project unfit (billing). */
export function isKeyRefusal(e: ProviderError): boolean {
  return e.scope === 'key' && e.code === 'config_error';
}

/** Recognises a ProviderError by name too: errors crossing worker threads or sandboxes lose their prototype. */
export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError || (err instanceof Error && err.name === 'ProviderError');
}
