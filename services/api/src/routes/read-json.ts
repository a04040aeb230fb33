import type { Context } from 'hono';
import { ApiError } from '../errors.js';

/** Reads a JSON body with a size cap, answering 415/413/400 in the API's error shape. */
export async function readJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the batch as application/json');
  }
  const declared = Number(c.req.header('content-length') ?? 'NaN');
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ApiError(413, 'payload_too_large', `The body is larger than ${maxBytes} bytes`);
  }
  const text = await c.req.text();
  if (Buffer.byteLength(text) > maxBytes) {
    throw new ApiError(413, 'payload_too_large', `The body is larger than ${maxBytes} bytes`);
  }
  return parseJson(text);
}

/** JSON.parse answering 400 in the API's error shape. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'invalid_request', `The body is not valid JSON: ${(err as Error).message}`, [
      { path: '(body)', message: 'Malformed JSON' },
    ]);
  }
}
