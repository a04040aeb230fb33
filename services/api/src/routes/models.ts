import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';

export function modelRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/models',
      summary: 'Models, their sizes, prices and limits',
      responses: { 200: { description: 'The model registry' } },
    }),
    (c) => {
      const data = deps.registry.list().map((m) => ({
        id: m.id,
        object: 'model',
        aliases: m.aliases,
        provider: m.provider,
        kind: m.kind,
        available: deps.registry.available(m),
        sizes: m.sizes,
        aspect_ratios: m.aspectRatios,
        max_reference_images: m.maxReferenceImages,
        price_usd: m.priceUsd,
        limits: m.limits,
        timeout_s: m.timeoutMs / 1000,
        fallback: m.fallback,
      }));
      return c.json({ object: 'list', data }, 200);
    },
  );
  return app;
}
