/**
 * @module One POST to an already-checked address: no redirects, bounded response body, abortable.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedUrl } from './ssrf.js';

export interface PostResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most `maxResponseBytes` of the body. */
  body: Buffer;
}

export interface PostInput {
  target: CheckedUrl;
  headers: Record<string, string>;
  body: string;
  maxResponseBytes: number;
  /** Aborting before the response fails the request; after it, ends with the body read so far. */
  signal: AbortSignal;
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

export function postOnce({
  target,
  headers,
  body,
  maxResponseBytes,
  signal,
}: PostInput): Promise<PostResponse> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = Buffer.from(body);
    const req = request(target.url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(payload.length) },
      lookup: pinnedLookup(target),
      // A fresh connection per delivery: no pooled socket outlives the check that allowed it.
      agent: false,
    });

    // Set once the status line arrived: from then on the outcome is known and only the body is
    // still being read, so a deadline or a reset ends the read instead of failing the delivery.
    let finishBody: (() => void) | undefined;
    const onAbort = (): void => {
      if (finishBody !== undefined) finishBody();
      else req.destroy(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => signal.removeEventListener('abort', onAbort);

    req.on('error', (err) => {
      if (finishBody !== undefined) return;
      cleanup();
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        // Whatever the receiver still sends is not read: close the connection instead.
        req.destroy();
      };
      finishBody = finish;
      res.on('data', (chunk: Buffer) => {
        const room = maxResponseBytes - kept;
        if (room > 0) {
          const piece = chunk.subarray(0, room);
          chunks.push(piece);
          kept += piece.length;
        }
        if (kept >= maxResponseBytes) finish();
      });
      res.on('end', finish);
      res.on('error', finish);
      res.on('close', finish);
    });
    req.end(payload);
  });
}
