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

/** A request on a pooled keep-alive connection to the checked address. */
export async function pinnedRequest(input: PinnedRequestInput): Promise<PinnedResponse> {
  let response: Dispatcher.ResponseData;
  try {
    response = await sendOnce(input);
  } catch (err) {
    if (!closedReusedConnection(err) || input.signal.aborted) throw err;
    response = await sendOnce(input);
  }
  return {
    status: response.statusCode,
    headers: response.headers,
    body: await readCapped(response.body, input),
  };
}

function sendOnce({
  target,
  method,
  headers,
  body,
  signal,
}: PinnedRequestInput): Promise<Dispatcher.ResponseData> {
  const { url } = target;
  return poolFor(target).request({
    path: `${url.pathname}${url.search}`,
    method,
    headers: { ...authorization(url), ...headers },
    body: body ?? null,
    signal,
  });
}

/**
 * The body up to the cap. A body read only in part (cut at the cap, aborted, reset) closes its
 * connection: whatever the server still sends is not read.
 */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  { maxResponseBytes, oversize }: PinnedRequestInput,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let kept = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const room = maxResponseBytes - kept;
      if (oversize === 'fail' && chunk.length > room) throw new ResponseTooLargeError(maxResponseBytes);
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(piece);
      kept += piece.length;
      if (kept >= maxResponseBytes && oversize === 'truncate') break;
    }
  } catch (err) {
    // 'truncate': a deadline or a reset after the status line ends the body read so far.
    if (oversize === 'fail') throw err;
  }
  return Buffer.concat(chunks, kept);
}
