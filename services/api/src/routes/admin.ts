import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type MiddlewareHandler } from 'hono';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { sameOriginWrites } from '../middleware/same-origin.js';

const ADMIN_BASE_PATH = '/admin/queues';

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/**
 * The admin key as `Authorization: Bearer <key>` (scripts) or as the password of HTTP Basic (a browser,
 * which then sends it with the dashboard's own asset and API requests). Compared in constant time.
 */
function adminAuth(adminKey: string): MiddlewareHandler {
  const expected = digest(adminKey);
  return async function adminAuthMiddleware(c, next) {
    const header = c.req.header('authorization') ?? '';
    let presented: string | undefined = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
    if (presented === undefined && basic !== undefined) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      presented = decoded.slice(decoded.indexOf(':') + 1);
    }
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      c.header('www-authenticate', 'Basic realm="pixelmill admin", charset="UTF-8"');
      throw new ApiError(401, 'unauthorized', 'The queue dashboard needs the admin key');
    }
    await next();
  };
}

/**
 * bull-board at /admin/queues over every queue of the deployment (stack.md §9), behind the admin
 * key; its writes (pause, retry, clean...) are refused from other sites. Returns null when no admin key is configured: the route does not exist then (404).
 */
export function adminRoutes(deps: Pick<AppDeps, 'adminKey' | 'queues' | 'registry'>): Hono | null {
  if (deps.adminKey === undefined) return null;
  const serverAdapter = new HonoAdapter(serveStatic);
  createBullBoard({
    queues: [
      ...deps.registry.list().map((m) => new BullMQAdapter(deps.queues.generate(m.id))),
      new BullMQAdapter(deps.queues.finalize),
      new BullMQAdapter(deps.queues.deliver),
    ],
    serverAdapter,
  });
  serverAdapter.setBasePath(ADMIN_BASE_PATH);
  const app = new Hono();
  // A browser sends cached Basic credentials with any request, so writes must come from the dashboard.
  app.use('*', sameOriginWrites());
  app.use('*', adminAuth(deps.adminKey));
  app.route('/', serverAdapter.registerPlugin());
  return app;
}
