import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { DeliveryStore, EndpointStore, InvalidCursorError, type Page } from '@pixelmill/core';
import type { AppDeps } from '../deps.js';
import { ApiError, invalidRequest, notFound } from '../errors.js';
import { badRequest, errorResponse, jsonResponse, notFoundResponse, v1Errors } from '../openapi/responses.js';
import { DeliveryPageSchema, DeliverySchema } from '../openapi/schemas.js';
import { pageQuerySchema } from './pagination.js';

const idParam = z.object({ id: z.string().max(100) });

async function page<T>(read: () => Promise<Page<T>>): Promise<Page<T>> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof InvalidCursorError) throw invalidRequest([{ path: 'cursor', message: err.message }]);
    throw err;
  }
}

/** The delivery log (every attempt with its time, status, latency, response excerpt, next attempt) and redelivery. */
export function deliveryRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  const deliveries = new DeliveryStore(deps.redis, deps.queues.prefix);
  const endpoints = new EndpointStore(deps.redis, deps.queues.prefix);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches/{id}/deliveries',
      operationId: 'listBatchDeliveries',
      tags: ['deliveries'],
      summary: "A batch's webhook deliveries (all targets) with every attempt, oldest first",
      request: { params: idParam, query: pageQuerySchema },
      responses: {
        200: jsonResponse('The delivery log', DeliveryPageSchema),
        400: badRequest(),
        404: notFoundResponse,
        ...v1Errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { cursor, limit } = c.req.valid('query');
      if ((await deps.store.getBatch(c.get('tenantId'), id)) === null) throw notFound('Batch');
      const p = await page(() => deliveries.listForBatch(id, { limit, ...(cursor ? { cursor } : {}) }));
      return c.json({ object: 'list', data: p.data, next_cursor: p.next_cursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/webhook-endpoints/{id}/deliveries',
      operationId: 'listEndpointDeliveries',
      tags: ['deliveries'],
      summary: "An endpoint's deliveries with every attempt, newest first (the last 10,000)",
      request: { params: idParam, query: pageQuerySchema },
      responses: {
        200: jsonResponse('The delivery log', DeliveryPageSchema),
        400: badRequest(),
        404: notFoundResponse,
        ...v1Errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { cursor, limit } = c.req.valid('query');
      if ((await endpoints.get(c.get('tenantId'), id)) === null) throw notFound('Webhook endpoint');
      const p = await page(() => deliveries.listForEndpoint(id, { limit, ...(cursor ? { cursor } : {}) }));
      return c.json({ object: 'list', data: p.data, next_cursor: p.next_cursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/deliveries/{id}',
      operationId: 'getDelivery',
      tags: ['deliveries'],
      summary: 'One delivery with every attempt',
      request: { params: idParam },
      responses: {
        200: jsonResponse('The delivery', DeliverySchema),
        400: badRequest(),
        404: notFoundResponse,
        ...v1Errors,
      },
    }),
    async (c) => {
      const delivery = await deliveries.get(c.get('tenantId'), c.req.valid('param').id);
      if (delivery === null) throw notFound('Delivery');
      return c.json(delivery, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/deliveries/{id}/redeliver',
      operationId: 'redeliver',
      tags: ['deliveries'],
      summary:
        'Send a delivery again: a new attempt series on the same record, same webhook-id and body, on the full schedule',
      request: { params: idParam },
      responses: {
        202: jsonResponse('Queued: the delivery with its new attempt series pending', DeliverySchema),
        400: badRequest(),
        404: notFoundResponse,
        409: errorResponse('endpoint_disabled: its endpoint is disabled or deleted'),
        ...v1Errors,
      },
    }),
    async (c) => {
      const tenantId = c.get('tenantId');
      const { id } = c.req.valid('param');
      const delivery = await deliveries.get(tenantId, id);
      if (delivery === null) throw notFound('Delivery');
      if (delivery.endpoint_id !== null) {
        const endpoint = await endpoints.get(tenantId, delivery.endpoint_id);
        if (endpoint === null)
          throw new ApiError(409, 'endpoint_disabled', "The delivery's endpoint was deleted");
        if (!endpoint.enabled) {
          throw new ApiError(
            409,
            'endpoint_disabled',
            'The endpoint is disabled; re-enable it with PATCH enabled: true',
          );
        }
      }
      // A new series is due now; a running one waiting for its next attempt is brought forward.
      const started = await deliveries.startRedelivery(id);
      if (started === null) throw notFound('Delivery');
      const queued = await deliveries.get(tenantId, id);
      if (queued === null) throw notFound('Delivery');
      return c.json(queued, 202);
    },
  );
  return app;
}
