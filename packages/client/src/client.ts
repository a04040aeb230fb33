/**
 * @module The typed client: openapi-fetch over the types generated from the API's own /openapi.json
 * (src/openapi.ts), with the parts a generated client lacks: idempotent submit with retries, streamed
 * NDJSON/CSV uploads, paging, and errors as {@link PixelmillError}.
 */
import { randomUUID } from 'node:crypto';
import createFetchClient from 'openapi-fetch';
import { asErrorBody, PixelmillError } from './errors.js';
import type { components, operations, paths } from './openapi.js';
import { paginate } from './paging.js';

type Schemas = components['schemas'];
export type Batch = Schemas['Batch'];
export type Item = Schemas['Item'];
export type Delivery = Schemas['Delivery'];
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type WebhookEndpointWithSecret = Schemas['WebhookEndpointWithSecret'];
export type Model = Schemas['Model'];
export type CreateBatchRequest = operations['createBatch']['requestBody']['content']['application/json'];
/** The batch options of a CSV upload, sent as query parameters. */
export type CsvBatchOptions = NonNullable<operations['createBatch']['parameters']['query']>;
export type CreateWebhookEndpoint =
  operations['createWebhookEndpoint']['requestBody']['content']['application/json'];
export type UpdateWebhookEndpoint =
  operations['updateWebhookEndpoint']['requestBody']['content']['application/json'];
export type ItemStatus = Item['status'];
export type ReviewStatus = Item['review']['status'];
export type BulkReviewRequest = operations['reviewBatchItems']['requestBody']['content']['application/json'];
export type RegenerateRequest = NonNullable<
  operations['regenerateItem']['requestBody']
>['content']['application/json'];
export type ChooseRequest = operations['chooseItemOutput']['requestBody']['content']['application/json'];
export type RetryableStatus = NonNullable<Schemas['RetryRequest']['statuses']>[number];

export interface ClientOptions {
  /** The API's base URL, e.g. `http://localhost:8080`. */
  baseUrl: string;
  apiKey: string;
  /** Another fetch (tests, proxies); defaults to the global one. */
  fetch?: typeof fetch;
}

export interface SubmitOptions {
  /** Defaults to a new random key, so that the retries below can never create a second batch. */
  idempotencyKey?: string;
  /** Tries in all on a network error or a 503 (default 4); the wait follows Retry-After (capped). */
  attempts?: number;
  maxWaitMs?: number;
}

export interface Submitted {
  batch: Batch;
  /** True when the server answered an Idempotency-Key it had seen with the first response. */
  replayed: boolean;
  idempotencyKey: string;
}

/** A body streamed as it is produced: memory stays flat whatever the batch size. */
export type UploadBody = string | ReadableStream<Uint8Array> | AsyncIterable<string | Uint8Array>;

const encoder = new TextEncoder();

function toStream(body: AsyncIterable<string | Uint8Array>): ReadableStream<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await it.next();
      if (next.done) controller.close();
      else controller.enqueue(typeof next.value === 'string' ? encoder.encode(next.value) : next.value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/** A `{data, error, response}` of openapi-fetch as its data, or a thrown {@link PixelmillError}. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined)
    throw new PixelmillError(result.response.status, asErrorBody(result.error), result.response.headers);
  return result.data;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createClient(options: ClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;
  const authorization = `Bearer ${options.apiKey}`;
  const http = createFetchClient<paths>({ baseUrl, headers: { authorization }, fetch: doFetch });
  const byId = (id: string) => ({ params: { path: { id } } });

  async function upload(
    contentType: string,
    body: UploadBody,
    query: Record<string, string>,
    idempotencyKey: string,
  ): Promise<Submitted> {
    const search = new URLSearchParams(query).toString();
    const stream = typeof body === 'string' || body instanceof ReadableStream ? body : toStream(body);
    const init: RequestInit & { duplex?: 'half' } = {
      method: 'POST',
      headers: { authorization, 'content-type': contentType, 'idempotency-key': idempotencyKey },
      body: stream,
      ...(typeof stream === 'string' ? {} : { duplex: 'half' }),
    };
    const res = await doFetch(`${baseUrl}/v1/batches${search ? `?${search}` : ''}`, init);
    const json: unknown = await res.json().catch(() => undefined);
    if (res.status !== 201) throw new PixelmillError(res.status, asErrorBody(json), res.headers);
    // The 201 body is a Batch (the document says so, and the API tests hold the server to it).
    const batch = json as Batch;
    return { batch, replayed: res.headers.get('idempotent-replayed') === 'true', idempotencyKey };
  }

  return {
    /** The openapi-fetch client itself, typed by every path of the document. */
    http,

    /**
     * Submits a JSON batch with an Idempotency-Key, trying again on a network error or a 503 with the
     * same key: at most one batch is created, however many tries it takes.
     */
    async submitBatch(request: CreateBatchRequest, opts: SubmitOptions = {}): Promise<Submitted> {
      const idempotencyKey = opts.idempotencyKey ?? randomUUID();
      const attempts = opts.attempts ?? 4;
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await http.POST('/v1/batches', {
            body: request,
            params: { header: { 'idempotency-key': idempotencyKey } },
          });
          const batch = unwrap(r);
          return {
            batch,
            replayed: r.response.headers.get('idempotent-replayed') === 'true',
            idempotencyKey,
          };
        } catch (err) {
          const retryable = err instanceof PixelmillError ? err.status === 503 : err instanceof TypeError;
          if (!retryable || attempt >= attempts) throw err;
          const hinted =
            err instanceof PixelmillError && err.retryAfterS !== undefined ? err.retryAfterS * 1000 : 0;
          await sleep(Math.min(opts.maxWaitMs ?? 10_000, Math.max(hinted, 200 * 2 ** attempt)));
        }
      }
    },

    /** Streams an NDJSON batch: the header line (the batch without `items`), then one item per line. */
    submitNdjson(body: UploadBody, opts: { idempotencyKey?: string } = {}): Promise<Submitted> {
      return upload('application/x-ndjson', body, {}, opts.idempotencyKey ?? randomUUID());
    },

    /** Streams a CSV batch (header row `custom_id,prompt,...`), the batch options in the query. */
    submitCsv(
      body: UploadBody,
      batch: CsvBatchOptions,
      opts: { idempotencyKey?: string } = {},
    ): Promise<Submitted> {
      const query: Record<string, string> = {};
      for (const [k, v] of Object.entries(batch)) if (v !== undefined) query[k] = String(v);
      return upload('text/csv', body, query, opts.idempotencyKey ?? randomUUID());
    },

    async getBatch(id: string): Promise<Batch> {
      return unwrap(await http.GET('/v1/batches/{id}', byId(id)));
    },

    /** Every batch of the tenant, newest first, a page at a time. */
    batches(opts: { pageSize?: number } = {}): AsyncGenerator<Batch> {
      return paginate(async (cursor) =>
        unwrap(await http.GET('/v1/batches', { params: { query: { limit: opts.pageSize ?? 100, cursor } } })),
      );
    },

    /**
     * Every item of a batch in submission order, optionally only those in one status, review status
     * and QA status (`qa`: of the chosen version; `none` when none of its outputs was checked).
     */
    items(
      batchId: string,
      opts: {
        status?: ItemStatus;
        review?: ReviewStatus;
        qa?: 'passed' | 'flagged' | 'none';
        pageSize?: number;
      } = {},
    ): AsyncGenerator<Item> {
      return paginate(async (cursor) =>
        unwrap(
          await http.GET('/v1/batches/{id}/items', {
            params: {
              path: { id: batchId },
              query: {
                limit: opts.pageSize ?? 100,
                cursor,
                ...(opts.status ? { status: opts.status } : {}),
                ...(opts.review ? { review: opts.review } : {}),
                ...(opts.qa ? { qa: opts.qa } : {}),
              },
            },
          }),
        ),
      );
    },

    /** Approves or rejects many items of a batch (by custom_ids or item_ids): all of them or none. */
    async reviewItems(
      batchId: string,
      review: BulkReviewRequest,
    ): Promise<{ reviewed: number; items: Item[] }> {
      const r = unwrap(
        await http.POST('/v1/batches/{id}/items/review', { params: { path: { id: batchId } }, body: review }),
      );
      return { reviewed: r.reviewed, items: r.data };
    },

    /** Approves or rejects one item (by its id or custom_id), with an optional note. */
    async reviewItem(
      batchId: string,
      item: string,
      review: { action: 'approve' | 'reject'; note?: string },
    ): Promise<Item> {
      return unwrap(
        await http.POST('/v1/batches/{id}/items/{item}/review', {
          params: { path: { id: batchId, item } },
          body: review,
        }),
      );
    },

    /** Generates an ended item again as a new version, optionally with an edited prompt or parameters. */
    async regenerateItem(batchId: string, item: string, edits: RegenerateRequest = {}): Promise<Item> {
      return unwrap(
        await http.POST('/v1/batches/{id}/items/{item}/regenerate', {
          params: { path: { id: batchId, item } },
          body: edits,
        }),
      );
    },

    /** Chooses one of an item's versions and, optionally, one of its variants. */
    async chooseOutput(batchId: string, item: string, choice: ChooseRequest): Promise<Item> {
      return unwrap(
        await http.POST('/v1/batches/{id}/items/{item}/choose', {
          params: { path: { id: batchId, item } },
          body: choice,
        }),
      );
    },

    async cancelBatch(id: string): Promise<Batch> {
      return unwrap(await http.POST('/v1/batches/{id}/cancel', byId(id)));
    },

    /** Queues ended items again (default: the failed ones); `retried` counts them. */
    async retryBatch(id: string, statuses?: RetryableStatus[]): Promise<{ batch: Batch; retried: number }> {
      const r = await http.POST('/v1/batches/{id}/retry', {
        ...byId(id),
        ...(statuses ? { body: { statuses } } : {}),
      });
      return { batch: unwrap(r), retried: Number(r.response.headers.get('x-retried-items') ?? 0) };
    },

    /** results.csv of the batch, as text. */
    async results(id: string): Promise<string> {
      return unwrap(await http.GET('/v1/batches/{id}/results', { ...byId(id), parseAs: 'text' }));
    },

    batchDeliveries(batchId: string, opts: { pageSize?: number } = {}): AsyncGenerator<Delivery> {
      return paginate(async (cursor) =>
        unwrap(
          await http.GET('/v1/batches/{id}/deliveries', {
            params: { path: { id: batchId }, query: { limit: opts.pageSize ?? 100, cursor } },
          }),
        ),
      );
    },

    async getDelivery(id: string): Promise<Delivery> {
      return unwrap(await http.GET('/v1/deliveries/{id}', byId(id)));
    },

    async redeliver(id: string): Promise<Delivery> {
      return unwrap(await http.POST('/v1/deliveries/{id}/redeliver', byId(id)));
    },

    async models(): Promise<Model[]> {
      return unwrap(await http.GET('/v1/models')).data;
    },

    endpoints: {
      async create(input: CreateWebhookEndpoint): Promise<WebhookEndpointWithSecret> {
        return unwrap(await http.POST('/v1/webhook-endpoints', { body: input }));
      },
      list(opts: { pageSize?: number } = {}): AsyncGenerator<WebhookEndpoint> {
        return paginate(async (cursor) =>
          unwrap(
            await http.GET('/v1/webhook-endpoints', {
              params: { query: { limit: opts.pageSize ?? 100, cursor } },
            }),
          ),
        );
      },
      async get(id: string): Promise<WebhookEndpoint> {
        return unwrap(await http.GET('/v1/webhook-endpoints/{id}', byId(id)));
      },
      async update(id: string, patch: UpdateWebhookEndpoint): Promise<WebhookEndpoint> {
        return unwrap(await http.PATCH('/v1/webhook-endpoints/{id}', { ...byId(id), body: patch }));
      },
      async delete(id: string): Promise<void> {
        const r = await http.DELETE('/v1/webhook-endpoints/{id}', byId(id));
        if (r.error !== undefined)
          throw new PixelmillError(r.response.status, asErrorBody(r.error), r.response.headers);
      },
      async rotateSecret(id: string, secret?: string): Promise<WebhookEndpointWithSecret> {
        return unwrap(
          await http.POST('/v1/webhook-endpoints/{id}/rotate-secret', {
            ...byId(id),
            ...(secret ? { body: { secret } } : {}),
          }),
        );
      },
      deliveries(id: string, opts: { pageSize?: number } = {}): AsyncGenerator<Delivery> {
        return paginate(async (cursor) =>
          unwrap(
            await http.GET('/v1/webhook-endpoints/{id}/deliveries', {
              params: { path: { id }, query: { limit: opts.pageSize ?? 100, cursor } },
            }),
          ),
        );
      },
    },
  };
}

export type PixelmillClient = ReturnType<typeof createClient>;
