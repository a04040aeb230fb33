import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';

declare module 'hono' {
  interface ContextVariableMap {
    tenantId: string;
    /** The presented key's public id (first 10 hex digits of its SHA-256): who reviewed, never the key. */
    keyId: string;
  }
}

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/**
 * Bearer-key auth per tenant. Keys are kept only as SHA-256 digests and compared in constant time,
 * so neither memory dumps nor response timing reveal a key.
 */
export function bearerAuth(keys: { tenantId: string; key: string }[]): MiddlewareHandler {
  const table = keys.map((k) => ({ tenantId: k.tenantId, digest: digest(k.key) }));
  return async function bearerAuthMiddleware(c, next) {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new ApiError(401, 'unauthorized', 'Missing API key: send Authorization: Bearer <key>');
    const presented = digest(match[1] as string);
    let tenantId: string | undefined;
    // Compare against every key (no early exit) so timing does not tell how many keys exist or match.
    for (const entry of table) if (timingSafeEqual(entry.digest, presented)) tenantId = entry.tenantId;
    if (tenantId === undefined) throw new ApiError(401, 'unauthorized', 'Invalid API key');
    c.set('tenantId', tenantId);
    c.set('keyId', presented.toString('hex').slice(0, 10));
    await next();
  };
}
