import type { Context } from 'hono';
import { ApiError } from '../errors.js';

/**
 * Reads a JSON body, answering 415/400 in the API's error shape. Its size is capped while reading by
 * the body-cap middleware every route sits behind (413 there).
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json');
  }
  return parseJson(await c.req.text());
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
