/**
 * @module The one way pixelmill reaches a customer-supplied URL (webhook deliveries, reference
 * images): the SSRF guard checks the URL and every address its name resolves to now, and the request
 * connects to exactly those addresses (no second DNS answer, no rebinding). Redirects are never
 * followed (the caller sees the 3xx), the body is capped, one deadline covers DNS, connect and body.
 */
import { type Oversize, type PinnedResponse, pinnedRequest } from './pinned-request.js';
import { assertPublicUrl, type LookupAll } from './ssrf.js';

export interface GuardedFetchInput {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Skips the address check, not the scheme check (PIXELMILL_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  lookup?: LookupAll;
  /** One deadline for DNS, connect, headers and body; past it the fetch rejects with FetchTimeoutError. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** 'truncate' keeps the start of a longer body (answer excerpts), 'fail' rejects (downloads). */
  oversize: Oversize;
}

export type GuardedResponse = PinnedResponse;

export class FetchTimeoutError extends Error {
  override readonly name = 'FetchTimeoutError';
  constructor() {
    super('timeout');
  }
}

/**
 * Rejects with `UnsafeUrlError` (refused URL or DNS failure), `FetchTimeoutError`,
 * `ResponseTooLargeError` (oversize 'fail') or a network error; any HTTP status resolves.
 */
export async function guardedFetch({
  url,
  method = 'GET',
  headers = {},
  body,
  allowPrivate,
  lookup,
  timeoutMs,
  maxResponseBytes,
  oversize,
}: GuardedFetchInput): Promise<GuardedResponse> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  const timedOut = new Promise<never>((_, reject) => {
    deadline.signal.addEventListener('abort', () => reject(new FetchTimeoutError()), { once: true });
  });
  timedOut.catch(() => {});
  try {
    // Checked at every fetch, not only at submission: DNS may have changed since.
    const target = await Promise.race([assertPublicUrl(url, { allowPrivate, lookup }), timedOut]);
    return await pinnedRequest({
      target,
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      maxResponseBytes,
      oversize,
      signal: deadline.signal,
    });
  } catch (err) {
    if (deadline.signal.aborted) throw new FetchTimeoutError();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
