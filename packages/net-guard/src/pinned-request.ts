/**
 * @module One HTTP request to an already-checked address: no redirects followed, a bounded response
 * body, abortable. The only place a guarded URL is connected to (webhooks and reference images).
 */
import type { Dispatcher } from 'undici';
import { poolFor } from './connection-pool.js';
import type { CheckedUrl } from './ssrf.js';

export interface PinnedResponse {
  status: number;
  /** Lower-case names; a repeated header is an array. */
  headers: Record<string, string | string[] | undefined>;
  /** At most `maxResponseBytes` of the body. */
  body: Buffer;
}

/** What happens to a body longer than the cap, or to a body still arriving when the signal aborts. */
export type Oversize = 'truncate' | 'fail';

export interface PinnedRequestInput {
  target: CheckedUrl;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  maxResponseBytes: number;
  /**
   * 'truncate': keep the first `maxResponseBytes` and end there; an abort after the status line ends
   * with the body read so far (a receiver's answer: only the status matters). 'fail': reject with
   * `ResponseTooLargeError`, and an abort after the status line rejects too (a download).
   */
  oversize: Oversize;
  /** Aborting before the response fails the request; after it, see `oversize`. */
  signal: AbortSignal;
}

export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
  constructor(readonly limit: number) {
    super(`response is larger than ${limit} bytes`);
  }
}

/** Connection failures that leave the request unanswered. */
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * A connection closed under a request before its answer, on a connection that had already carried an
 * answer (bytes read before): a reused keep-alive connection the receiver closed as the request went
 * out. Such a request is sent once more on a fresh connection, as browsers do; the receiver did not
 * answer it (a receiver that saw it dedupes by `webhook-id`).
 */
function closedReusedConnection(err: unknown): boolean {
  const e = err as { code?: unknown; socket?: { bytesRead?: unknown } } | null;
  const bytesRead = e?.socket?.bytesRead;
  return (
    typeof e?.code === 'string' && CLOSED_CODES.has(e.code) && typeof bytesRead === 'number' && bytesRead > 0
  );
}

/** HTTP Basic credentials in the URL (`https://user:pass@host/`), sent as node:http sends them. */
function authorization(url: URL): Record<string, string> {
  if (url.username === '' && url.password === '') return {};
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

/**
 * A request on a pooled keep-alive connection to the checked address. It goes through undici's
 * `dispatch` with a handler of its own, which collects the body up to the cap as it arrives: no
 * response stream and no abort listener inside undici per request, only the one here.
 */
export async function pinnedRequest(input: PinnedRequestInput): Promise<PinnedResponse> {
  const first = { answered: false };
  try {
    return await sendOnce(input, first);
  } catch (err) {
    // Sent once more only when no answer had started: a body cut after the status line is not resent.
    if (first.answered || !closedReusedConnection(err) || input.signal.aborted) throw err;
    return sendOnce(input, { answered: false });
  }
}

/**
 * Resolves with the status, headers and the body up to the cap. A body read only in part (cut at the
 * cap, aborted, reset) closes its connection: whatever the server still sends is not read. An abort
 * or a connection error after the status line ends a 'truncate' request with the body read so far.
 */
function sendOnce(
  { target, method, headers, body, maxResponseBytes, oversize, signal }: PinnedRequestInput,
  state: { answered: boolean },
): Promise<PinnedResponse> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let responseHeaders: PinnedResponse['headers'] = {};
    const chunks: Buffer[] = [];
    let kept = 0;
    let settled = false;
    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err !== undefined) reject(err);
      else resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks, kept) });
    };
    const fail = (err: unknown): void => settle(state.answered && oversize === 'truncate' ? undefined : err);
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      fail(reason);
      controller?.abort(reason instanceof Error ? reason : new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (settled) c.abort(new Error('aborted'));
      },
      onResponseStart(_c, statusCode, resHeaders) {
        // 1xx answers are interim: the real one follows.
        if (statusCode < 200) return;
        state.answered = true;
        status = statusCode;
        responseHeaders = resHeaders;
      },
      onResponseData(c, chunk) {
        if (settled) return;
        const room = maxResponseBytes - kept;
        if (oversize === 'fail' && chunk.length > room) {
          const err = new ResponseTooLargeError(maxResponseBytes);
          settle(err);
          c.abort(err);
          return;
        }
        const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
        chunks.push(piece);
        kept += piece.length;
        if (oversize === 'truncate' && kept >= maxResponseBytes) {
          settle();
          c.abort(new Error('response excerpt complete'));
        }
      },
      onResponseEnd() {
        settle();
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };
    const { url } = target;
    try {
      poolFor(target).dispatch(
        {
          path: `${url.pathname}${url.search}`,
          method,
          headers: { ...authorization(url), ...headers },
          body: body ?? null,
        },
        handler,
      );
    } catch (err) {
      settle(err);
    }
  });
}
