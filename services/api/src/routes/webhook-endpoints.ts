import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import {
  createWebhookEndpointSchema,
  DEFAULT_ENDPOINT_EVENTS,
  DeliveryStore,
  EndpointStore,
  InvalidCursorError,
  ITEM_GROUP_DEFAULTS,
  newEndpointId,
  rotateSecretSchema,
  subscribedEvents,
  updateWebhookEndpointSchema,
  zodProblems,
} from '@pixelmill/core';
import { assertPublicUrl } from '@pixelmill/net-guard';
import { generateWebhookSecret } from '@pixelmill/webhooks';
import type { Context } from 'hono';
import type { AppDeps } from '../deps.js';
import { ApiError, invalidRequest, notFound } from '../errors.js';
import {
  badRequest,
  errorResponse,
  jsonResponse,
  notFoundResponse,
  unsupportedMediaType,
  v1Errors,
} from '../openapi/responses.js';
import {
  WebhookEndpointPageSchema,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
} from '../openapi/schemas.js';
import { pageQuerySchema } from './pagination.js';
import { readJsonBody } from './read-json.js';

/** Enough for every environment and team of a tenant; fan-out reads them all on every event. */
const MAX_ENDPOINTS_PER_TENANT = 50;

const idParam = z.object({ id: z.string().max(100) });

/**
 * Tenant-level webhook endpoints (api.md "Webhook endpoints"). The secret is returned once, by create
 * and rotate-secret; every other answer leaves it out.
 */
export function webhookEndpointRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  const endpoints = new EndpointStore(deps.redis, deps.queues.prefix);
  const deliveries = new DeliveryStore(deps.redis, deps.queues.prefix);

  /** SSRF guard at creation too, so a refused URL is a 400 now rather than failed deliveries later. */
  async function checkUrl(url: string): Promise<void> {
    try {
      await assertPublicUrl(url, {
        allowPrivate: deps.options.allowPrivateWebhooks,
        lookup: deps.options.lookup,
      });
    } catch (err) {
      throw invalidRequest([{ path: 'url', message: (err as Error).message }]);
    }
  }

  async function body<T>(c: Context, schema: z.ZodType<T>, optional = false): Promise<T> {
    const empty =
      optional && !c.req.header('content-type') && (c.req.header('content-length') ?? '0') === '0';
    const raw = empty ? {} : await readJsonBody(c);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw invalidRequest(zodProblems(parsed.error));
    return parsed.data;
  }

  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/webhook-endpoints',
    operationId: 'createWebhookEndpoint',
    tags: ['webhook-endpoints'],
    summary: 'Create a webhook endpoint (the secret is returned once)',
    request: {
      body: { required: true, content: { 'application/json': { schema: createWebhookEndpointSchema } } },
    },
    responses: {
      201: jsonResponse('Created, with its secret (returned only here)', WebhookEndpointWithSecretSchema),
      400: badRequest('invalid_request: each bad field named by path (a refused URL: `url`)'),
      409: errorResponse('limit_exceeded: a tenant has at most 50 webhook endpoints'),
      415: unsupportedMediaType,
      ...v1Errors,
    },
  });
  app.post('/v1/webhook-endpoints', async (c) => {
    const tenantId = c.get('tenantId');
    const input = await body(c, createWebhookEndpointSchema);
    await checkUrl(input.url);
    if ((await endpoints.count(tenantId)) >= MAX_ENDPOINTS_PER_TENANT) {
      throw new ApiError(
        409,
        'limit_exceeded',
        `A tenant has at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints`,
      );
    }
    const secret = input.secret ?? generateWebhookSecret();
    const endpoint = await endpoints.create(tenantId, {
      id: newEndpointId(),
      url: input.url,
      description: input.description ?? '',
      events: subscribedEvents(input.events ?? [...DEFAULT_ENDPOINT_EVENTS], input.item_events),
      item_group_max_items: input.item_group_max_items ?? ITEM_GROUP_DEFAULTS.maxItems,
      item_group_max_wait_s: input.item_group_max_wait_s ?? ITEM_GROUP_DEFAULTS.maxWaitS,
      enabled: input.enabled ?? true,
      rate_limit: input.rate_limit ?? null,
      secret,
    });
    return c.json({ ...endpoint, secret }, 201);
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/webhook-endpoints',
      operationId: 'listWebhookEndpoints',
      tags: ['webhook-endpoints'],
      summary: "List the tenant's webhook endpoints, oldest first",
      request: { query: pageQuerySchema },
      responses: {
        200: jsonResponse('A page of endpoints', WebhookEndpointPageSchema),
        400: badRequest(),
        ...v1Errors,
      },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid('query');
      try {
        const page = await endpoints.list(c.get('tenantId'), { limit, ...(cursor ? { cursor } : {}) });
        return c.json({ object: 'list', data: page.data, next_cursor: page.next_cursor }, 200);
      } catch (err) {
        if (err instanceof InvalidCursorError)
          throw invalidRequest([{ path: 'cursor', message: err.message }]);
        throw err;
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/webhook-endpoints/{id}',
      operationId: 'getWebhookEndpoint',
      tags: ['webhook-endpoints'],
      summary: 'Get a webhook endpoint',
      request: { params: idParam },
      responses: {
        200: jsonResponse('The endpoint', WebhookEndpointSchema),
        400: badRequest(),
        404: notFoundResponse,
        ...v1Errors,
      },
    }),
    async (c) => {
      const endpoint = await endpoints.get(c.get('tenantId'), c.req.valid('param').id);
      if (endpoint === null) throw notFound('Webhook endpoint');
      return c.json(endpoint, 200);
    },
  );

  app.openAPIRegistry.registerPath({
    method: 'patch',
    path: '/v1/webhook-endpoints/{id}',
    operationId: 'updateWebhookEndpoint',
    tags: ['webhook-endpoints'],
    summary: 'Change a webhook endpoint; `enabled: true` re-enables a disabled one',
    request: {
      params: idParam,
      body: { required: true, content: { 'application/json': { schema: updateWebhookEndpointSchema } } },
    },
    responses: {
      200: jsonResponse('The endpoint', WebhookEndpointSchema),
      400: badRequest(),
      404: notFoundResponse,
      415: unsupportedMediaType,
      ...v1Errors,
    },
  });
  app.patch('/v1/webhook-endpoints/:id', async (c) => {
    const tenantId = c.get('tenantId');
    const id = c.req.param('id');
    const current = await endpoints.get(tenantId, id);
    if (current === null) throw notFound('Webhook endpoint');
    const { item_events: itemEvents, ...patch } = await body(c, updateWebhookEndpointSchema);
    if (patch.url !== undefined) await checkUrl(patch.url);
    // The `item_events` alias applies to the events sent with it, or else to the stored ones.
    if (patch.events !== undefined || itemEvents !== undefined)
      patch.events = subscribedEvents(patch.events ?? current.events, itemEvents);
    const endpoint = await endpoints.update(tenantId, id, patch);
    if (endpoint === null) throw notFound('Webhook endpoint');
    return c.json(endpoint, 200);
  });

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/webhook-endpoints/{id}',
      operationId: 'deleteWebhookEndpoint',
      tags: ['webhook-endpoints'],
      summary: 'Delete a webhook endpoint; its pending deliveries are not sent',
      request: { params: idParam },
      responses: {
        204: {
          description: 'Deleted',
          headers: { 'x-request-id': { $ref: '#/components/headers/X-Request-Id' } },
        },
        400: badRequest(),
        404: notFoundResponse,
        ...v1Errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await endpoints.delete(c.get('tenantId'), id))) throw notFound('Webhook endpoint');
      await deliveries.forgetEndpoint(id);
      return c.body(null, 204);
    },
  );

  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/rotate-secret',
    operationId: 'rotateWebhookEndpointSecret',
    tags: ['webhook-endpoints'],
    summary: 'New signing secret (returned once); the old one keeps signing beside it for 24 h',
    request: {
      params: idParam,
      body: { required: false, content: { 'application/json': { schema: rotateSecretSchema } } },
    },
    responses: {
      200: jsonResponse('The endpoint with its new secret', WebhookEndpointWithSecretSchema),
      400: badRequest(),
      404: notFoundResponse,
      415: unsupportedMediaType,
      ...v1Errors,
    },
  });
  app.post('/v1/webhook-endpoints/:id/rotate-secret', async (c) => {
    const tenantId = c.get('tenantId');
    const id = c.req.param('id');
    if ((await endpoints.get(tenantId, id)) === null) throw notFound('Webhook endpoint');
    const input = await body(c, rotateSecretSchema, true);
    const secret = input.secret ?? generateWebhookSecret();
    const endpoint = await endpoints.rotateSecret(tenantId, id, secret);
    if (endpoint === null) throw notFound('Webhook endpoint');
    return c.json({ ...endpoint, secret }, 200);
  });

  return app;
}
