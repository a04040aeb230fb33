import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { InvalidCursorError, itemStatuses, reviewStatuses } from '@pixelmill/core';
import { presentItem } from '../batches/present.js';
import type { AppDeps } from '../deps.js';
import { invalidRequest, notFound } from '../errors.js';
import { badRequest, jsonResponse, notFoundResponse, v1Errors } from '../openapi/responses.js';
import { ItemPageSchema } from '../openapi/schemas.js';
import { pageQuerySchema } from './pagination.js';

export function itemRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches/{id}/items',
      operationId: 'listBatchItems',
      tags: ['items'],
      summary:
        "List a batch's items in submission order, optionally by status, review status and QA status (all given must match); the cursor is a position in that order, so pages stay stable while items change state",
      request: {
        params: z.object({ id: z.string().max(100) }),
        query: pageQuerySchema.extend({
          status: z.enum(itemStatuses).optional(),
          review: z.enum(reviewStatuses).optional().openapi({ description: "The item's review status" }),
          qa: z.enum(['passed', 'flagged', 'none']).optional().openapi({
            description: "The chosen version's QA summary (`qa_status`); `none`: no output was checked",
          }),
        }),
      },
      responses: {
        200: jsonResponse('A page of items', ItemPageSchema),
        400: badRequest(),
        404: notFoundResponse,
        ...v1Errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { cursor, limit, status, review, qa } = c.req.valid('query');
      const batch = await deps.store.getBatch(c.get('tenantId'), id);
      if (batch === null) throw notFound('Batch');
      try {
        const page = await deps.store.listItems(id, {
          limit,
          ...(cursor ? { cursor } : {}),
          ...(status ? { status } : {}),
          ...(review ? { review } : {}),
          ...(qa ? { qa } : {}),
        });
        const data = await Promise.all(
          page.data.map((i) => presentItem(i, deps.objects, deps.options.presignTtlS)),
        );
        return c.json({ object: 'list', data, next_cursor: page.next_cursor }, 200);
      } catch (err) {
        if (err instanceof InvalidCursorError)
          throw invalidRequest([{ path: 'cursor', message: err.message }]);
        throw err;
      }
    },
  );
  return app;
}
