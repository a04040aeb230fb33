import { Hono } from 'hono';
import type { AppDeps } from '../deps.js';

/** `/healthz`: the process is up. `/readyz`: Redis and the bucket answer, so work can be accepted. */
export function healthRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const check = async (fn: () => Promise<unknown>) => {
      try {
        await withTimeout(fn(), 2000);
        return 'ok';
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    };
    const [redis, bucket] = await Promise.all([
      check(() => deps.redis.ping()),
      check(() => deps.objects.ping()),
    ]);
    const ready = redis === 'ok' && bucket === 'ok';
    return c.json({ status: ready ? 'ready' : 'unavailable', checks: { redis, bucket } }, ready ? 200 : 503);
  });
  return app;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
