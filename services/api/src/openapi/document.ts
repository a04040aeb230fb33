/**
 * @module The OpenAPI 3.1 document served at /openapi.json: the routes declare their own operations;
 * this adds what no route owns (security schemes, shared headers, the probe and admin paths, the
 * webhook events) and the document's header.
 */
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { BODY_CAP_TEXT, errorResponse, headerComponents, jsonResponse } from './responses.js';
import { HealthSchema, ReadinessSchema } from './schemas.js';
import { registerWebhooks } from './webhook-events.js';

export const openApiConfig = {
  openapi: '3.1.0',
  info: {
    title: 'pixelmill',
    version: '0.1.0',
    description:
      'Queue image-generation prompts per tenant, store the images in S3, and get signed webhooks. Errors are `{"error": {"code", "message", "details"}}`.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: '/', description: 'The host that serves this document' }],
  security: [{ bearerAuth: [] }],
  tags: [
    { name: 'batches', description: 'Submit, read, cancel and retry batches' },
    { name: 'items', description: 'Items of a batch with their outputs' },
    { name: 'deliveries', description: 'The webhook delivery log and redelivery' },
    { name: 'webhook-endpoints', description: 'Tenant-level webhook endpoints' },
    { name: 'models', description: 'The model registry' },
    { name: 'ops', description: 'Probes, metrics, documents and the queue dashboard' },
    { name: 'webhooks', description: 'Events pixelmill POSTs to your endpoints' },
  ],
};

const open = { security: [] as Record<string, string[]>[], tags: ['ops'] };
/** The body cap holds on every route, these too. */
const capped = { 413: errorResponse(BODY_CAP_TEXT) };

/** Registers what the document needs beyond the routes' own declarations. Call once per app. */
export function registerDocumentExtras(app: OpenAPIHono): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'A tenant API key from PIXELMILL_API_KEYS, for every /v1 route',
  });
  registry.registerComponent('securitySchemes', 'adminKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'PIXELMILL_ADMIN_KEY, for /admin',
  });
  registry.registerComponent('securitySchemes', 'adminBasic', {
    type: 'http',
    scheme: 'basic',
    description: 'PIXELMILL_ADMIN_KEY as the password of HTTP Basic (any user name), for a browser',
  });
  for (const [name, header] of Object.entries(headerComponents))
    registry.registerComponent('headers', name, header);

  registry.registerPath({
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'The process is up',
    ...open,
    responses: { 200: jsonResponse('Up', HealthSchema), ...capped },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary: 'Redis and the bucket answer within 2 s',
    ...open,
    responses: {
      200: jsonResponse('Ready', ReadinessSchema),
      413: capped[413],
      503: jsonResponse('Not ready: this shape (not the error shape), no Retry-After', ReadinessSchema),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics (aggregates only); keep it off the public ingress',
    ...open,
    responses: {
      200: { description: 'Prometheus text', content: { 'text/plain': { schema: z.string() } } },
      ...capped,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document',
    ...open,
    responses: {
      200: {
        description: 'OpenAPI 3.1',
        content: { 'application/json': { schema: z.object({}).passthrough() } },
      },
      ...capped,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    summary: 'A reference page rendered from this document',
    ...open,
    responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } }, ...capped },
  });
  registry.registerPath({
    method: 'get',
    path: '/admin/queues',
    operationId: 'adminQueues',
    summary: 'The queue dashboard (bull-board); 404 when PIXELMILL_ADMIN_KEY is not set',
    description:
      'Its own pages and API lie under /admin/queues/. Writes a browser marks as cross-site are 403 forbidden.',
    tags: ['ops'],
    security: [{ adminKey: [] }, { adminBasic: [] }],
    responses: {
      200: { description: 'The dashboard', content: { 'text/html': { schema: z.string() } } },
      401: errorResponse('unauthorized: missing or wrong admin key'),
      404: errorResponse('not_found: no admin key is configured'),
      ...capped,
    },
  });
  registerWebhooks(registry);
}
