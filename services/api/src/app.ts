import { OpenAPIHono } from '@hono/zod-openapi';
import { newRequestId, zodProblems } from '@pixelmill/core';
import { consoleRoutes } from './console/routes.js';
import type { AppDeps } from './deps.js';
import { ApiError, invalidRequest } from './errors.js';
import { createApiMetrics } from './metrics/api-metrics.js';
import { bearerAuth } from './middleware/auth.js';
import { type BodyCap, bodyCap, DEFAULT_BODY_MAX_BYTES } from './middleware/body-cap.js';
import { redisGate } from './middleware/redis-gate.js';
import { openApiConfig, registerDocumentExtras } from './openapi/document.js';
import { adminRoutes } from './routes/admin.js';
import { batchRoutes } from './routes/batches.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { itemRoutes } from './routes/items.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { reviewRoutes } from './routes/review.js';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.js';

/** The API as a Hono app: main.ts serves it, tests call `app.request()` on it. */
export function createApp(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono({
    // Query/param validation failures use the same error shape as bodies.
    defaultHook: (result) => {
      if (!result.success) throw invalidRequest(zodProblems(result.error));
    },
  });

  const metrics = deps.metrics ?? createApiMetrics(deps);
  app.use('*', metrics.middleware);
  app.use('*', async function requestLog(c, next) {
    const requestId = c.req.header('x-request-id') ?? newRequestId();
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    deps.logger.debug(
      {
        request_id: requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });

  // Mounted before every route: each body is capped while it is read (api.md "Errors").
  const ingestCap: BodyCap = { maxBytes: deps.options.maxBodyBytes, setting: 'PIXELMILL_MAX_BODY_BYTES' };
  const defaultCap: BodyCap = { maxBytes: DEFAULT_BODY_MAX_BYTES };
  app.use(
    '*',
    bodyCap((c) => (c.req.method === 'POST' && c.req.path === '/v1/batches' ? ingestCap : defaultCap)),
  );

  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(metrics));
  app.route('/', docsRoutes());
  app.route('/console', consoleRoutes());
  const admin = adminRoutes(deps);
  if (admin !== null) app.route('/admin/queues', admin);
  app.use('/v1/*', redisGate(deps.redis));
  app.use('/v1/*', bearerAuth(deps.apiKeys));
  for (const routes of [
    batchRoutes(deps),
    itemRoutes(deps),
    reviewRoutes(deps),
    deliveryRoutes(deps),
    modelRoutes(deps),
  ])
    app.route('/', routes);
  app.route('/', webhookEndpointRoutes(deps));

  registerDocumentExtras(app);
  app.doc31('/openapi.json', openApiConfig);

  app.notFound((c) =>
    c.json(new ApiError(404, 'not_found', `No route ${c.req.method} ${c.req.path}`).body(), 404),
  );
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.body(), err.status, err.headers);
    // A body past its cap, whatever the route or a validator made of the stream's error.
    const tooLarge = c.get('bodyCapExceeded');
    if (tooLarge !== undefined) return c.json(tooLarge.body(), 413);
    deps.logger.error({ err, path: c.req.path }, 'unhandled error');
    return c.json(new ApiError(500, 'internal_error', 'Internal error').body(), 500);
  });
  return app;
}
