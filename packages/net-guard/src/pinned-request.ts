/**
 * @module One HTTP request to an already-checked address: no redirects followed, a bounded response
 * body, abortable. The only place a guarded URL is connected to (webhooks and reference images).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { agentFor } from './agent-pool.js';
import type { CheckedUrl } from './ssrf.js';

export interface PinnedResponse {
  status: number;
  headers: IncomingHttpHeaders;
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

/**
 * Answers every DNS lookup the socket makes with the addresses the guard checked, so a name that
 * re-resolves to 127.0.0.1 after the check (DNS rebinding) cannot be reached.
 */
function pinnedLookup(target: CheckedUrl): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) {
      callback(null, target.addresses);
    } else {
      callback(null, target.address, target.family);
    }
  };
}

/**
 * A request on a pooled keep-alive connection to the checked address. A reused socket the receiver had
 * already closed fails before any answer (ECONNRESET on a reused socket): that request is sent once
 * more on a fresh connection, as browsers and undici do, since the receiver never saw it.
 */
export async function pinnedRequest(input: PinnedRequestInput): Promise<PinnedResponse> {
  try {
    return await sendOnce(input);
  } catch (err) {
    if (!(err instanceof StaleSocketError) || input.signal.aborted)
      throw err instanceof StaleSocketError ? err.cause : err;
    return sendOnce(input);
  }
}

class StaleSocketError extends Error {
  constructor(override readonly cause: unknown) {
    super('reused socket was closed by the peer');
  }
}

function sendOnce({
  target,
  method,
  headers,
  body,
  maxResponseBytes,
  oversize,
  signal,
}: PinnedRequestInput): Promise<PinnedResponse> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = request(target.url, {
      method,
      headers: payload === undefined ? headers : { ...headers, 'content-length': String(payload.length) },
      lookup: pinnedLookup(target),
      // Pooled per (origin, checked addresses): a socket only carries requests checked to its address.
      agent: agentFor(target),
    });

    // Set once the status line arrived: from then on the outcome is known and only the body is
    // still being read, so a deadline or a reset ends the read (or fails it, with oversize 'fail').
    let finishBody: ((err?: Error) => void) | undefined;
    const onAbort = (): void => {
      if (finishBody !== undefined) finishBody(oversize === 'fail' ? new Error('aborted') : undefined);
      else req.destroy(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => signal.removeEventListener('abort', onAbort);

    req.on('error', (err) => {
      if (finishBody !== undefined) return;
      cleanup();
      const code = (err as { code?: unknown }).code;
      reject(
        req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') ? new StaleSocketError(err) : err,
      );
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let settled = false;
      /** `complete`: the whole body was read, so the connection can carry the next request. */
      const finish = (err?: Error, complete = false): void => {
        if (settled) return;
        settled = true;
        cleanup();
        if (err !== undefined) reject(err);
        else resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        // Whatever the server still sends is not read: close the connection instead.
        if (!complete) req.destroy();
      };
      finishBody = finish;
      res.on('data', (chunk: Buffer) => {
        const room = maxResponseBytes - kept;
        if (oversize === 'fail' && chunk.length > room) {
          finish(new ResponseTooLargeError(maxResponseBytes));
          return;
        }
        if (room > 0) {
          const piece = chunk.subarray(0, room);
          chunks.push(piece);
          kept += piece.length;
        }
        if (kept >= maxResponseBytes && oversize === 'truncate') finish();
      });
      res.on('end', () => finish(undefined, true));
      const cut = (): void => finish(oversize === 'fail' ? new Error('response ended early') : undefined);
      res.on('error', cut);
      res.on('close', () => {
        // 'close' follows 'end' on a complete body; before it, the body was cut off.
        if (!res.complete) cut();
        else finish();
      });
    });
    req.end(payload);
  });
}
