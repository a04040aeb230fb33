/**
 * A consumer's flow through @pixelmill/client, written as an integrator would: no casts, every
 * response typed by the generated document. test/e2e/client.test.ts type-checks this file with
 * `tsc --noEmit` and runs it against the whole product.
 */
import { collect, type Item, type PixelmillClient, PixelmillError } from '@pixelmill/client';

export interface FlowContext {
  model: string;
  /** A receiver URL for webhook endpoints, and the secret it verifies with. */
  webhookUrl: string;
  webhookSecret: string;
  /** Waits until a batch has ended (any status but queued/running/cancelling). */
  waitEnded: (batchId: string) => Promise<void>;
  /** Makes the simulator refuse prompts containing these words (content_blocked), or none. */
  blockWords: (words: string[]) => Promise<void>;
}

export interface FlowReport {
  jsonBatch: { id: string; replayed: boolean; sameIdOnReplay: boolean };
  ndjsonItems: number;
  csvItems: number;
  pagedItems: string[];
  listedBatchIds: string[];
  cancelledStatus: string;
  failedBeforeRetry: number;
  retried: number;
  succeededAfterRetry: number;
  resultsHeader: string;
  endpointEvents: string[];
  rotatedSecretPrefix: string;
  deliveries: number;
  redeliveredStatus: string;
  errors: { status: number; code: string; paths: string[] }[];
  models: string[];
}

export async function runFlow(client: PixelmillClient, ctx: FlowContext): Promise<FlowReport> {
  const errors: FlowReport['errors'] = [];
  const record = async (call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
    } catch (err) {
      if (!(err instanceof PixelmillError)) throw err;
      errors.push({ status: err.status, code: err.code, paths: err.details.map((d) => d.path) });
    }
  };

  // Models.
  const models = (await client.models()).map((m) => m.id);

  // A webhook endpoint for every event, each item on its own.
  const endpoint = await client.endpoints.create({
    url: ctx.webhookUrl,
    events: ['batch.completed', 'batch.cancelled', 'item.succeeded', 'item.failed'],
    item_events: 'each',
    secret: ctx.webhookSecret,
  });

  // JSON batch, idempotent: the same key answers the same batch again.
  const request = {
    model: ctx.model,
    items: [1, 2, 3, 4, 5].map((i) => ({
      custom_id: `json-${i}`,
      prompt: `${i % 2 === 0 ? 'flowblock ' : ''}Studio shot ${i} [sim:32x32]`,
    })),
  };
  await ctx.blockWords(['flowblock']);
  const first = await client.submitBatch(request, { idempotencyKey: `flow-${endpoint.id}` });
  const again = await client.submitBatch(request, { idempotencyKey: `flow-${endpoint.id}` });
  await ctx.waitEnded(first.batch.id);

  // Paging through the items, two at a time.
  const paged: Item[] = await collect(client.items(first.batch.id, { pageSize: 2 }));
  const failedBeforeRetry = paged.filter((i) => i.status === 'failed').length;

  // Retry the failed ones once the words pass.
  await ctx.blockWords([]);
  const { retried } = await client.retryBatch(first.batch.id, ['failed']);
  await ctx.waitEnded(first.batch.id);
  const succeeded = await collect(client.items(first.batch.id, { status: 'succeeded' }));
  const results = await client.results(first.batch.id);

  // NDJSON, streamed line by line.
  async function* ndjson() {
    yield `${JSON.stringify({ model: ctx.model })}\n`;
    for (let i = 0; i < 3; i++)
      yield `${JSON.stringify({ custom_id: `nd-${i}`, prompt: `nd ${i} [sim:32x32]` })}\n`;
  }
  const nd = await client.submitNdjson(ndjson());

  // CSV, options in the query.
  const csv = await client.submitCsv('custom_id,prompt\ncsv-1,A [sim:32x32]\ncsv-2,B [sim:32x32]\n', {
    model: ctx.model,
    size: '1K',
  });

  // Cancel.
  const cancelled = await client.cancelBatch(csv.batch.id);

  // Every batch of the tenant, a page at a time.
  const listed = await collect(client.batches({ pageSize: 1 }));

  // Deliveries of the JSON batch, and one sent again.
  const deliveries = await collect(client.batchDeliveries(first.batch.id, { pageSize: 2 }));
  const firstDelivery = deliveries[0];
  const redelivered = firstDelivery ? await client.redeliver(firstDelivery.id) : undefined;
  const rotated = await client.endpoints.rotateSecret(endpoint.id);
  const updated = await client.endpoints.update(endpoint.id, { description: 'flow' });

  // Errors come back typed, each bad field named.
  await record(() =>
    client.submitBatch({ model: ctx.model, items: [{ custom_id: 'x', prompt: 'p', n: 99 }] }),
  );
  await record(() => client.getBatch('batch_does_not_exist'));
  await record(() =>
    client.submitBatch(
      { ...request, items: request.items.slice(1) },
      { idempotencyKey: `flow-${endpoint.id}` },
    ),
  );
  await client.endpoints.delete(endpoint.id);

  await ctx.waitEnded(nd.batch.id);
  return {
    jsonBatch: {
      id: first.batch.id,
      replayed: again.replayed,
      sameIdOnReplay: again.batch.id === first.batch.id,
    },
    ndjsonItems: nd.batch.counts.total,
    csvItems: csv.batch.counts.total,
    pagedItems: paged.map((i) => i.custom_id),
    listedBatchIds: listed.map((b) => b.id),
    cancelledStatus: cancelled.status,
    failedBeforeRetry,
    retried,
    succeededAfterRetry: succeeded.length,
    resultsHeader: results.split('\n')[0] ?? '',
    endpointEvents: updated.events,
    rotatedSecretPrefix: rotated.secret.slice(0, 6),
    deliveries: deliveries.length,
    redeliveredStatus: redelivered?.status ?? 'none',
    errors,
    models,
  };
}
