import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The origins this request was sent to: its own URL's, and, behind a proxy, the one made of
 * X-Forwarded-Proto and X-Forwarded-Host. A cross-site page cannot set those headers (they need a
 * CORS preflight that these routes never grant), so trusting them opens no way around the check.
 */
function ownOrigins(c: Context): Set<string> {
  const url = new URL(c.req.url);
  const out = new Set([url.origin]);
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim();
  const host = c.req.header('x-forwarded-host')?.split(',')[0]?.trim();
  if (proto !== undefined || host !== undefined) {
    out.add(`${proto ?? url.protocol.slice(0, -1)}://${host ?? url.host}`);
  }
  return out;
}

/**
 * Refuses a state-changing request (any method but GET, HEAD, OPTIONS) that a browser says came from
 * another site: `Sec-Fetch-Site` of `cross-site` or `same-site`, or an `Origin` (including `null`)
 * other than the request's own. 403 `forbidden`. Requests without either header (scripts, curl) and
 * same-origin or user-typed (`Sec-Fetch-Site: none`) ones pass. For routes a browser authenticates on
 * its own (cached Basic credentials), where a cross-site form could otherwise act as the user.
 */
export function sameOriginWrites(): MiddlewareHandler {
  return async function sameOriginWritesMiddleware(c, next) {
    if (!SAFE_METHODS.has(c.req.method)) {
      const site = c.req.header('sec-fetch-site');
      const origin = c.req.header('origin');
      if (site === 'cross-site' || site === 'same-site') {
        throw new ApiError(403, 'forbidden', `A ${site} ${c.req.method} is refused here`);
      }
      if (origin !== undefined && !ownOrigins(c).has(origin)) {
        throw new ApiError(403, 'forbidden', `A ${c.req.method} from another origin is refused here`);
      }
    }
    await next();
  };
}
