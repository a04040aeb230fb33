import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { createBatchRequestSchema, InvalidCursorError, validateBatchRequest } from '@pixelmill/core';
import { acceptBatch } from '../batches/accept-batch.js';
import { presentBatch } from '../batches/present.js';
import type { AppDeps } from '../deps.js';
import { ApiError, invalidRequest, notFound } from '../errors.js';
import { pageQuerySchema } from './pagination.js';
import { readJsonBody } from './read-json.js';

const batchIdParam = z.object({ id: z.string().max(100) });

export function batchRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  const ttl = deps.options.presignTtlS;

  // Registered for the OpenAPI document only: the body is read and validated by hand so that every
  // problem (schema, duplicates, model capabilities) comes back in one 400.
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/batches',
    summary: 'Submit a batch of image prompts',
    request: { body: { content: { 'application/json': { schema: createBatchRequestSchema } } } },
    responses: { 201: { description: 'Accepted' }, 400: { description: 'Invalid request' } },
  });
  app.post('/v1/batches', async (c) => {
    const body = await readJsonBody(c, deps.options.maxBodyBytes);
    const validated = validateBatchRequest(body);
    if (!validated.ok) throw invalidRequest(validated.problems);
    const { batch, generatedSecret } = await acceptBatch(deps, c.get('tenantId'), validated.value);
    const out = await presentBatch(batch, deps.objects, ttl);
    if (generatedSecret !== undefined && out.webhook)
      out.webhook = { ...out.webhook, secret: generatedSecret };
    return c.json(out, 201);
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches',
      summary: "List the tenant's batches, newest first",
      request: { query: pageQuerySchema },
      responses: { 200: { description: 'A page of batches' } },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid('query');
      const page = await deps.store
        .listBatches(c.get('tenantId'), { limit, ...(cursor ? { cursor } : {}) })
        .catch((err: unknown) => {
          if (err instanceof InvalidCursorError)
            throw invalidRequest([{ path: 'cursor', message: err.message }]);
          throw err;
        });
      const data = await Promise.all(page.data.map((b) => presentBatch(b, deps.objects, ttl)));
      return c.json({ object: 'list', data, next_cursor: page.next_cursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches/{id}',
      summary: 'Get a batch',
      request: { params: batchIdParam },
      responses: { 200: { description: 'The batch' }, 404: { description: 'Not found' } },
    }),
    async (c) => {
      const batch = await deps.store.getBatch(c.get('tenantId'), c.req.valid('param').id);
      if (batch === null) throw notFound('Batch');
      return c.json(await presentBatch(batch, deps.objects, ttl), 200);
    },
  );

  return app;
}

export { ApiError };
