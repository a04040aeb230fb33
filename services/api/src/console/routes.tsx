/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { type Context, Hono } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { secureHeaders } from 'hono/secure-headers';
import { loadAssets } from './assets.js';
import { BatchPage } from './batch-page.js';
import { BatchesPage } from './batches-page.js';
import { ModelsPage } from './models-page.js';
import { ReviewPage } from './review-page.js';

/**
 * The web console, mounted by app.ts at `/console`. Pages are server-rendered shells; the browser
 * script calls the JSON API with the key the user typed, so these routes need no auth of their own
 * and never see a key.
 */
export function consoleRoutes(): Hono {
  const app = new Hono();
  const assets = loadAssets();

  app.use(
    '*',
    secureHeaders({
      // The key sits in sessionStorage: no inline or foreign script may run. Images come from the
      // bucket's presigned URLs, whatever host that is.
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:', 'http:', 'https:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      xFrameOptions: 'DENY',
    }),
  );

  app.get('/assets/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (asset === undefined) return c.text('Not found', 404);
    return c.body(asset.body, 200, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
  });

  for (const path of ['/', '']) app.get(path, (c) => page(c, <BatchesPage />));
  app.get('/models', (c) => page(c, <ModelsPage />));
  app.get('/batches/:id{[A-Za-z0-9_-]{1,100}}', (c) => page(c, <BatchPage id={c.req.param('id')} />));
  app.get('/batches/:id{[A-Za-z0-9_-]{1,100}}/review', (c) => page(c, <ReviewPage id={c.req.param('id')} />));

  return app;
}

async function page(c: Context, body: JSX.Element): Promise<Response> {
  c.header('cache-control', 'no-store');
  return c.html(`<!doctype html>${await body.toString()}`);
}
