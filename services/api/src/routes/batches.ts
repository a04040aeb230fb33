import { Readable } from 'node:stream';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import {
  createBatchRequestSchema,
  InvalidCursorError,
  type ItemStatus,
  itemStatuses,
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
import { pageQuerySchema } from './pagination.js';
import { parseJson } from './read-json.js';

const batchIdParam = z.object({ id: z.string().max(100) });

const retryBodySchema = z.strictObject({
  statuses: z
    .array(z.enum(itemStatuses.filter((s) => s !== 'queued' && s !== 'running' && s !== 'succeeded')))
    .min(1)
    .optional(),
});

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
    summary: 'Submit a batch of image prompts (JSON, or streamed as NDJSON or CSV)',
    request: {
      body: {
        content: {
          'application/json': { schema: createBatchRequestSchema },
          'application/x-ndjson': { schema: z.string() },
          'text/csv': { schema: z.string() },
        },
      },
    },
    responses: {
      201: { description: 'Accepted' },
      400: { description: 'Invalid request' },
      409: { description: 'Idempotency-Key reused with another body' },
      413: { description: 'Too many items, too large a body, or more items than a tenant quota allows' },
      429: { description: 'A tenant quota is reached (tenant_quota_exceeded); see Retry-After' },
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

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/batches/{id}/cancel',
      summary: 'Cancel a batch: queued items end cancelled, running ones finish',
      request: { params: batchIdParam },
      responses: {
        200: { description: 'The batch, cancelling or cancelled' },
        404: { description: 'Not found' },
      },
    }),
    async (c) => {
      const batch = await cancelBatch(deps, c.get('tenantId'), c.req.valid('param').id);
      return c.json(await presentBatch(batch, deps.objects, ttl), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/batches/{id}/retry',
      summary: 'Queue failed items again (attempts reset); the batch re-opens and finalizes again',
      request: { params: batchIdParam },
      responses: {
        200: { description: 'The batch; header x-retried-items counts the items queued again' },
        404: { description: 'Not found' },
        409: { description: 'The batch is being finalized; retry shortly' },
      },
    }),
    async (c) => {
      const text = await c.req.text();
      const parsed = retryBodySchema.safeParse(text.trim() === '' ? {} : parseJson(text));
      if (!parsed.success) throw invalidRequest(zodProblems(parsed.error));
      const statuses: ItemStatus[] = parsed.data.statuses ?? ['failed'];
      const { batch, retried } = await retryBatch(deps, c.get('tenantId'), c.req.valid('param').id, statuses);
      c.header('x-retried-items', String(retried));
      return c.json(await presentBatch(batch, deps.objects, ttl), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches/{id}/results',
      summary: "The batch's results as CSV (the same columns as results.csv in the bucket), streamed",
      request: { params: batchIdParam },
      responses: { 200: { description: 'text/csv' }, 404: { description: 'Not found' } },
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

export { ApiError };
