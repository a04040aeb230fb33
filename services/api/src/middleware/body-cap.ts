import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** Set when the request's body passed its cap: the answer is this 413, whatever the route did. */
    bodyCapExceeded: ApiError;
  }
}

/** The cap of every request body unless a route is listed with its own (JSON bodies of a few fields). */
export const DEFAULT_BODY_MAX_BYTES = 64 * 1024;

export interface BodyCap {
  maxBytes: number;
  /** The setting that raises it, named in the 413 (e.g. PIXELMILL_MAX_BODY_BYTES). */
  setting?: string;
}

const bodyTooLarge = ({ maxBytes, setting }: BodyCap): ApiError =>
  new ApiError(
    413,
    'payload_too_large',
    `The body is larger than ${maxBytes} bytes${setting ? ` (${setting})` : ''}`,
    [{ path: '(body)', message: `Larger than ${maxBytes} bytes` }],
  );

/**
 * Caps the body of every request it is mounted over: a declared Content-Length over the cap is a 413
 * before anything is read, and the body stream itself is replaced by one that counts bytes as the
 * route pulls them and errors with the same 413 the moment the count passes the cap (chunked bodies
 * too). It pulls one chunk at a time on demand, so at most one chunk past the cap is ever read.
 * Once the cap is passed the answer is that 413 even when the route (or a validator) turned the
 * stream error into another answer. `capOf` picks the cap per request (the batch ingest has a
 * larger one).
 */
export function bodyCap(capOf: (c: Context) => BodyCap): MiddlewareHandler {
  return async function bodyCapMiddleware(c, next) {
    const source = c.req.raw.body;
    if (source === null) return next();
    const cap = capOf(c);
    const tooLarge = bodyTooLarge(cap);
    const declared = Number(c.req.header('content-length') ?? 'NaN');
    if (Number.isFinite(declared) && declared > cap.maxBytes) throw tooLarge;
    const body = metered(source, cap.maxBytes, () => {
      c.set('bodyCapExceeded', tooLarge);
      return tooLarge;
    });
    c.req.raw = new Request(c.req.raw, { body, duplex: 'half' });
    await next();
    if (c.get('bodyCapExceeded') !== undefined && c.res.status !== 413) {
      c.res = c.json(tooLarge.body(), 413);
    }
  };
}

/** `source` as a stream that errors with `exceeded()` once more than `maxBytes` have passed. */
function metered(
  source: ReadableStream<Uint8Array>,
  maxBytes: number,
  exceeded: () => Error,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let bytes = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        bytes += value.byteLength;
        if (bytes > maxBytes) {
          reader.cancel().catch(() => undefined);
          controller.error(exceeded());
          return;
        }
        controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
