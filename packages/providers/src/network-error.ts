/**
 * Failures without an HTTP answer: connection resets, DNS errors, our own deadline, the caller's
 * abort. Shared by every adapter so they all report them the same way.
 * @module
 */
import { isProviderError, ProviderError } from '@pixelmill/core';

/**
 * Maps a thrown transport error to a retryable, item-scoped ProviderError: `timeout` when our deadline
 * fired, `provider_error` otherwise. A ProviderError passes through unchanged, so adapters can route
 * every failure of a call through one catch.
 */
export function networkError(err: unknown, timedOut: boolean): ProviderError {
  if (isProviderError(err)) return err;
  if (timedOut) {
    return new ProviderError({
      code: 'timeout',
      message: 'provider did not answer before the deadline',
      retryable: true,
      scope: 'item',
      cause: err,
    });
  }
  const detail = describe(err);
  return new ProviderError({
    code: 'provider_error',
    message: `network error: ${detail}`,
    retryable: true,
    scope: 'item',
    providerCode: causeCode(err),
    cause: err,
  });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'AbortError') return 'request aborted by caller';
  const code = causeCode(err);
  return code === undefined ? err.message : `${err.message} (${code})`;
}

/** undici wraps socket errors: `TypeError: fetch failed` with `cause.code = 'ECONNRESET'`. */
function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
