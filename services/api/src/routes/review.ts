/**
 * @module Routes of the review loop (api.md "Review and versions"): review one or many items,
 * regenerate an item as a new version, choose a version or variant. Bodies are read by hand so every
 * problem comes back in the API's error shape, named by path.
 */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import {
  bulkReviewNamingProblem,
  bulkReviewRequestSchema,
  chooseRequestSchema,
  type FieldProblem,
  itemReviewRequestSchema,
  regenerateRequestSchema,
  zodProblems,
} from '@pixelmill/core';
import type { Context } from 'hono';
import { presentItem } from '../batches/present.js';
import { chooseOne, type Reviewer, regenerateOne, reviewMany, reviewOne } from '../batches/review.js';
import type { AppDeps } from '../deps.js';
import { invalidRequest } from '../errors.js';
import {
  badRequest,
  errorResponse,
  jsonResponse,
  notFoundResponse,
  unsupportedMediaType,
  v1Errors,
} from '../openapi/responses.js';
import { ItemSchema, ReviewResultSchema } from '../openapi/schemas.js';
import { readJsonBody } from './read-json.js';

const batchParam = z.object({ id: z.string().max(100) });
const itemParams = batchParam.extend({
  item: z
    .string()
    .max(200)
    .openapi({ description: "The item's id, or its custom_id", example: 'sku-1001-front' }),
});

function params<T>(c: Context, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(c.req.param());
  if (!parsed.success) throw invalidRequest(zodProblems(parsed.error));
  return parsed.data;
}

async function body<T>(
  c: Context,
  schema: z.ZodType<T>,
  opts: { optional?: boolean; check?: (raw: unknown) => FieldProblem | null } = {},
): Promise<T> {
  const empty =
    opts.optional === true &&
    !c.req.header('content-type') &&
    (c.req.header('content-length') ?? '0') === '0';
  const raw = empty ? {} : await readJsonBody(c);
  const parsed = schema.safeParse(raw);
  const problems = parsed.success ? [] : zodProblems(parsed.error);
  const extra = opts.check?.(raw);
  if (extra) problems.push(extra);
  if (!parsed.success || problems.length > 0) throw invalidRequest(problems);
  return parsed.data;
}

const who = (c: Context): Reviewer => ({ tenantId: c.get('tenantId'), keyId: c.get('keyId') });

const itemErrors = {
  400: badRequest(),
  404: errorResponse("not_found: no such batch or item (also another tenant's)"),
  415: unsupportedMediaType,
  ...v1Errors,
};

export function reviewRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  const ttl = deps.options.presignTtlS;
  const present = (item: Parameters<typeof presentItem>[0]) => presentItem(item, deps.objects, ttl);

  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/batches/{id}/items/review',
    operationId: 'reviewBatchItems',
    tags: ['review'],
    summary: 'Approve or reject many items of a batch, named by custom_ids or item_ids (all or none)',
    request: {
      params: batchParam,
      body: { required: true, content: { 'application/json': { schema: bulkReviewRequestSchema } } },
    },
    responses: {
      200: jsonResponse('The reviewed items, as they are now', ReviewResultSchema),
      ...itemErrors,
      404: notFoundResponse,
    },
  });
  app.post('/v1/batches/:id/items/review', async (c) => {
    const { id } = params(c, batchParam);
    const input = await body(c, bulkReviewRequestSchema, { check: bulkReviewNamingProblem });
    const { reviewed, items } = await reviewMany(deps, who(c), id, input);
    return c.json({ object: 'list', reviewed, data: await Promise.all(items.map(present)) }, 200);
  });

  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/batches/{id}/items/{item}/review',
    operationId: 'reviewItem',
    tags: ['review'],
    summary: 'Approve or reject one item, with an optional note',
    request: {
      params: itemParams,
      body: { required: true, content: { 'application/json': { schema: itemReviewRequestSchema } } },
    },
    responses: { 200: jsonResponse('The item with its review', ItemSchema), ...itemErrors },
  });
  app.post('/v1/batches/:id/items/:item/review', async (c) => {
    const { id, item } = params(c, itemParams);
    const input = await body(c, itemReviewRequestSchema);
    return c.json(await present(await reviewOne(deps, who(c), id, item, input)), 200);
  });

  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/batches/{id}/items/{item}/regenerate',
    operationId: 'regenerateItem',
    tags: ['review'],
    summary:
      'Generate an ended item again as a new version (same custom_id), optionally with an edited prompt or parameters; queued through the normal generation path',
    request: {
      params: itemParams,
      body: {
        required: false,
        description: 'Optional; an empty body regenerates with the same prompt and parameters',
        content: { 'application/json': { schema: regenerateRequestSchema } },
      },
    },
    responses: {
      202: jsonResponse('Queued: the item, queued, with its new version number', ItemSchema),
      ...itemErrors,
      409: errorResponse(
        'conflict: the item is queued or running, or the batch is being finalized; limit_exceeded: the item has its most versions (20), or its next version has no usable key',
      ),
    },
  });
  app.post('/v1/batches/:id/items/:item/regenerate', async (c) => {
    const { id, item } = params(c, itemParams);
    const input = await body(c, regenerateRequestSchema, { optional: true });
    return c.json(await present(await regenerateOne(deps, who(c), id, item, input)), 202);
  });

  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/batches/{id}/items/{item}/choose',
    operationId: 'chooseItemOutput',
    tags: ['review'],
    summary: "Choose one of an item's versions and, optionally, one of its n variants as the item's output",
    request: {
      params: itemParams,
      body: { required: true, content: { 'application/json': { schema: chooseRequestSchema } } },
    },
    responses: {
      200: jsonResponse('The item, its outputs those of the chosen version', ItemSchema),
      ...itemErrors,
      409: errorResponse('conflict: the item is queued or running'),
    },
  });
  app.post('/v1/batches/:id/items/:item/choose', async (c) => {
    const { id, item } = params(c, itemParams);
    const input = await body(c, chooseRequestSchema);
    return c.json(await present(await chooseOne(deps, who(c), id, item, input)), 200);
  });

  return app;
}
