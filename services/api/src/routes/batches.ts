import { Readable } from 'node:stream';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import {
  createBatchRequestSchema,
  InvalidCursorError,
  type ItemStatus,
  resultColumns,
  resultRows,
  validateBatchRequest,
  zodProblems,
} from '@pixelmill/core';
import { stringify } from 'csv-stringify';
import type { Context } from 'hono';
import { type AcceptedBatch, acceptBatch } from '../batches/accept-batch.js';
import { cancelBatch, retryBatch } from '../batches/lifecycle.js';
import { presentBatch } from '../batches/present.js';
import type { AppDeps } from '../deps.js';
import { ApiError, invalidRequest, notFound } from '../errors.js';
import { ingestCsv } from '../ingest/csv.js';
import { Idempotency } from '../ingest/idempotency.js';
import { MeteredBody } from '../ingest/metered-body.js';
import { ingestNdjson } from '../ingest/ndjson.js';
import {
  badRequest,
  errorResponse,
  jsonResponse,
  notFoundResponse,
  retryAfterHeader,
  v1Errors,
} from '../openapi/responses.js';
import { BatchPageSchema, BatchSchema, RetryRequestSchema } from '../openapi/schemas.js';
import { pageQuerySchema } from './pagination.js';
import { parseJson } from './read-json.js';

const batchIdParam = z.object({
  id: z.string().max(100).openapi({ example: 'batch_01JD6Z5V3X2Q8R7T9Y4W1M0N2P' }),
});

const retryBodySchema = RetryRequestSchema;

/** The batch options of a CSV upload, as query parameters (api.md "Streamed batches"). */
const csvQuerySchema = z.object({
  model: z.string().optional().openapi({ description: 'Required for text/csv: a model id or alias' }),
  prompt_template: z.string().optional(),
  size: z.enum(['512', '1K', '2K', '4K']).optional(),
  aspect_ratio: z.string().optional().openapi({ example: '4:3' }),
  n: z.int().min(1).max(10).optional(),
  priority: z.enum(['high', 'normal', 'low']).optional(),
  output_prefix: z.string().optional(),
  output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
  key_template: z.string().optional(),
  webhook_url: z.string().optional(),
  webhook_events: z.string().optional().openapi({ description: 'Comma-separated event types' }),
  expires_at: z.string().optional().openapi({ format: 'date-time' }),
  dedupe: z.enum(['true', 'false']).optional(),
});

const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().openapi({
    description:
      'The same key and body from the same tenant within 24 h answers the first response again (header idempotent-replayed: true); another body is 409 idempotency_conflict',
    example: 'import-2026-11-24-fall',
  }),
});

const batchResponse = (description: string) => jsonResponse(description, BatchSchema);

type BodyKind = 'json' | 'ndjson' | 'csv';

function bodyKind(c: Context): BodyKind {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  if (/^application\/json\b/.test(type)) return 'json';
  if (/^application\/(x-ndjson|jsonl|x-jsonlines)\b/.test(type)) return 'ndjson';
  if (/^text\/csv\b/.test(type)) return 'csv';
  throw new ApiError(
    415,
    'unsupported_media_type',
    'Send the batch as application/json, application/x-ndjson or text/csv',
  );
}

/** Reads, validates and accepts the body by its content type; the streamed kinds never hold it whole. */
async function ingest(deps: AppDeps, c: Context, kind: BodyKind, body: MeteredBody): Promise<AcceptedBatch> {
  const tenantId = c.get('tenantId') as string;
  if (kind === 'ndjson') return ingestNdjson(deps, tenantId, body);
  if (kind === 'csv') return ingestCsv(deps, tenantId, body, c.req.query());
  const validated = validateBatchRequest(parseJson(await body.text()));
  if (!validated.ok) throw invalidRequest(validated.problems);
  return acceptBatch(deps, tenantId, validated.value);
}

export function batchRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  const ttl = deps.options.presignTtlS;

  async function respond(c: Context, accepted: AcceptedBatch) {
    const out = await presentBatch(accepted.batch, deps.objects, ttl);
    if (accepted.generatedSecret !== undefined && out.webhook)
      out.webhook = { ...out.webhook, secret: accepted.generatedSecret };
    return c.json(out, 201);
  }

  // Registered for the OpenAPI document only: the body is read and validated by hand so that every
  // problem (schema, duplicates, model capabilities) comes back in one 400, and NDJSON/CSV stream.
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/batches',
    operationId: 'createBatch',
    tags: ['batches'],
    summary: 'Submit a batch of image prompts (JSON, or streamed as NDJSON or CSV)',
    description:
      'application/json: the whole batch. application/x-ndjson (or application/jsonl): the first line is the batch header without items, then one item per line. text/csv: a header row (custom_id, prompt, size, aspect_ratio, n, model, reference_images, metadata.<key>, and any other column as a template var), with the batch options as query parameters (metadata.<key> too). Accepted whole or not at all.',
    request: {
      query: csvQuerySchema,
      headers: idempotencyHeaders,
      body: {
        required: true,
        content: {
          'application/json': { schema: createBatchRequestSchema },
          'application/x-ndjson': {
            schema: z.string().openapi({
              description:
                'Line 1: the batch header (CreateBatchRequest without items); then one item per line',
              example: '{"model":"gemini-3-pro-image"}\n{"custom_id":"sku-1","prompt":"A red shoe"}\n',
            }),
          },
          'application/jsonl': { schema: z.string().openapi({ description: 'As application/x-ndjson' }) },
          'text/csv': {
            schema: z.string().openapi({ example: 'custom_id,prompt\nsku-1,A red shoe\n' }),
          },
        },
      },
    },
    responses: {
      201: jsonResponse(
        'Accepted (or, with a replayed Idempotency-Key, the first answer again)',
        BatchSchema,
        {
          'idempotent-replayed': {
            description: '`true` when this answers a repeated Idempotency-Key with the first response',
            schema: { type: 'string' },
          },
        },
      ),
      400: badRequest('invalid_request, unknown_model or model_unavailable; each bad field named by path'),
      401: v1Errors[401],
      409: errorResponse(
        'idempotency_conflict: the Idempotency-Key was used with another body, or is in use',
      ),
      413: errorResponse(
        'payload_too_large: more items than PIXELMILL_MAX_ITEMS_PER_BATCH or a tenant quota allows, or a body past PIXELMILL_MAX_BODY_BYTES',
      ),
      415: errorResponse('unsupported_media_type: send application/json, application/x-ndjson or text/csv'),
      429: errorResponse(
        'tenant_quota_exceeded: a tenant quota is reached; retry after Retry-After seconds',
        {
          'Retry-After': retryAfterHeader,
        },
      ),
      500: v1Errors[500],
      503: v1Errors[503],
    },
  });
  app.post('/v1/batches', async (c) => {
    const tenantId = c.get('tenantId') as string;
    const kind = bodyKind(c);
    const body = new MeteredBody(c);
    const key = c.req.header('idempotency-key');
    const idem = key === undefined ? undefined : new Idempotency(deps, tenantId, key);
    if (idem !== undefined && !(await idem.claim())) {
      // A duplicate: read the body only to hash it, then answer as the first request did (or 409).
      await body.drain();
      const target = await idem.replayTarget(body.digest());
      const found = await deps.store.getBatchInternal(target.batchId);
      const batch = await deps.store.getBatch(tenantId, target.batchId);
      if (batch === null || found === null) throw notFound('Batch');
      c.header('idempotent-replayed', 'true');
      return respond(
        c,
        target.secretGenerated && found.spec.webhook
          ? { batch, generatedSecret: found.spec.webhook.secret }
          : { batch },
      );
    }
    try {
      const accepted = await ingest(deps, c, kind, body);
      await idem?.complete(body.digest(), accepted.batch.id, accepted.generatedSecret !== undefined);
      return respond(c, accepted);
    } catch (err) {
      await idem?.release().catch(() => undefined);
      // Answer a refused upload after reading it to its end (bounded by the size limit), so clients
      // still sending see the 400 rather than a reset connection. Past the limit, stop reading.
      if (err instanceof ApiError && err.status !== 413) await body.drain().catch(() => undefined);
      throw err;
    }
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches',
      operationId: 'listBatches',
      tags: ['batches'],
      summary: "List the tenant's batches, newest first",
      request: { query: pageQuerySchema },
      responses: { 200: jsonResponse('A page of batches', BatchPageSchema), 400: badRequest(), ...v1Errors },
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
      operationId: 'getBatch',
      tags: ['batches'],
      summary: 'Get a batch',
      request: { params: batchIdParam },
      responses: { 200: batchResponse('The batch'), 400: badRequest(), 404: notFoundResponse, ...v1Errors },
    }),
    async (c) => {
      const batch = await deps.store.getBatch(c.get('tenantId'), c.req.valid('param').id);
      if (batch === null) throw notFound('Batch');
      return c.json(await presentBatch(batch, deps.objects, ttl), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/batches/{id}/cancel',
      operationId: 'cancelBatch',
      tags: ['batches'],
      summary: 'Cancel a batch: queued items end cancelled, running ones finish',
      request: { params: batchIdParam },
      responses: {
        200: batchResponse('The batch, cancelling or cancelled'),
        400: badRequest(),
        404: notFoundResponse,
        ...v1Errors,
      },
    }),
    async (c) => {
      const batch = await cancelBatch(deps, c.get('tenantId'), c.req.valid('param').id);
      return c.json(await presentBatch(batch, deps.objects, ttl), 200);
    },
  );

  // Declared for the document only: the optional body is read by hand (an empty one means the default).
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/batches/{id}/retry',
    operationId: 'retryBatch',
    tags: ['batches'],
    summary: 'Queue failed items again (attempts reset); the batch re-opens and finalizes again',
    request: {
      params: batchIdParam,
      body: {
        required: false,
        description: 'Optional; an empty body retries the failed items',
        content: { 'application/json': { schema: RetryRequestSchema } },
      },
    },
    responses: {
      200: jsonResponse('The batch', BatchSchema, {
        'x-retried-items': {
          description: 'How many items were queued again',
          schema: { type: 'integer' },
        },
      }),
      400: badRequest(),
      404: notFoundResponse,
      409: errorResponse('conflict: the batch is being finalized; retry in a few seconds'),
      ...v1Errors,
    },
  });
  app.post('/v1/batches/:id/retry', async (c) => {
    const id = batchIdParam.safeParse({ id: c.req.param('id') });
    if (!id.success) throw invalidRequest(zodProblems(id.error));
    const text = await c.req.text();
    const parsed = retryBodySchema.safeParse(text.trim() === '' ? {} : parseJson(text));
    if (!parsed.success) throw invalidRequest(zodProblems(parsed.error));
    const statuses: ItemStatus[] = parsed.data.statuses ?? ['failed'];
    const { batch, retried } = await retryBatch(deps, c.get('tenantId'), id.data.id, statuses);
    c.header('x-retried-items', String(retried));
    return c.json(await presentBatch(batch, deps.objects, ttl), 200);
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches/{id}/results',
      operationId: 'getBatchResults',
      tags: ['batches'],
      summary: "The batch's results as CSV (the same columns as results.csv in the bucket), streamed",
      request: { params: batchIdParam },
      responses: {
        200: {
          description: "One row per item and output; text cells that would start a formula begin with '",
          headers: { 'x-request-id': { $ref: '#/components/headers/X-Request-Id' } },
          content: { 'text/csv': { schema: z.string() } },
        },
        400: badRequest(),
        404: notFoundResponse,
        ...v1Errors,
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const batch = await deps.store.getBatch(c.get('tenantId'), id);
      if (batch === null) throw notFound('Batch');
      const rows = Readable.from(resultRows(deps.store, id, (key) => deps.objects.presignGet(key, ttl)));
      const csv = rows.pipe(stringify({ header: true, columns: [...resultColumns] }));
      rows.on('error', (err) => csv.destroy(err));
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', `attachment; filename="${id}-results.csv"`);
      return c.body(Readable.toWeb(csv) as unknown as ReadableStream, 200);
    },
  );

  return app;
}
