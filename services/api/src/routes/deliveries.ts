import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { DeliveryStore } from '@pixelmill/core';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';

export function deliveryRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  const deliveries = new DeliveryStore(deps.redis, deps.queues.prefix);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches/{id}/deliveries',
      summary: "A batch's webhook deliveries and every attempt",
      request: { params: z.object({ id: z.string().max(100) }) },
      responses: { 200: { description: 'The delivery log' }, 404: { description: 'Not found' } },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if ((await deps.store.getBatch(c.get('tenantId'), id)) === null) throw notFound('Batch');
      return c.json({ object: 'list', data: await deliveries.listForBatch(id) }, 200);
    },
  );
  return app;
}
