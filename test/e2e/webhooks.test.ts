// Webhooks end to end: the API and two worker processes deliver to real HTTP receivers that verify
// every signature from the raw body and can be down, slow, failing, rate limiting or gone.
import { generateWebhookSecret, verifyWebhook, WebhookVerificationError } from '@pixelmill/webhooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Behaviour,
  type FlakyReceiver,
  type Json,
  startFlakyReceiver,
} from '../support/flaky-receiver.js';
import { waitFor } from '../support/processes.js';
import { call, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
const receivers: FlakyReceiver[] = [];

beforeAll(async () => {
  stack = await startStack({
    workers: 2,
    sim: { latencyMs: { min: 5, max: 30 } },
    env: {
      // Six attempts within about 5 s, and a 1 s timeout, so every failure mode plays out in a test.
      PIXELMILL_WEBHOOK_SCHEDULE_MS: '0,300,600,1000,1500,2000',
      PIXELMILL_WEBHOOK_TIMEOUT_MS: '1000',
    },
  });
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await stack?.stop();
});

async function receiver(secrets: string[], behaviour?: Behaviour | ((i: number) => Behaviour)) {
  const r = await startFlakyReceiver(secrets);
  if (behaviour) r.behave(behaviour);
  receivers.push(r);
  return r;
}

const api = (method: string, path: string, body?: unknown, key = stack.apiKey) =>
  call(stack, key, method, path, body);

async function submit(body: Record<string, unknown>, items = 1): Promise<string> {
  const r = await api('POST', '/v1/batches', {
    model: 'gemini-3-pro-image',
    items: Array.from({ length: items }, (_, i) => ({ custom_id: `sku-${i}`, prompt: `Product shot ${i}` })),
    ...body,
  });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json.id;
}

async function deliveryWhen(batchId: string, check: (d: Json) => boolean, what: string): Promise<Json> {
  return waitFor(
    what,
    async () => {
      const r = await api('GET', `/v1/batches/${batchId}/deliveries`);
      return (r.json.data as Json[]).find(check);
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

const succeeded = (d: Json) => d.status === 'succeeded';

describe('delivery to a batch webhook', () => {
  test('receiver down, then up: delivered once it is back, under the same webhook-id', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret]);
    await r.down();
    const batchId = await submit({ webhook: { url: r.url, secret } });
    await deliveryWhen(batchId, (d) => d.attempts.length >= 2, 'two refused attempts');
    await r.up();
    const delivered = await deliveryWhen(batchId, succeeded, 'the delivery to succeed');
    const [accepted] = await r.waitForAccepted('the delivery', (a) => a.length === 1);
    expect(accepted?.webhookId).toBe(delivered.webhook_id);
    expect(accepted?.payload?.type).toBe('batch.completed');
    expect(accepted?.payload?.data).toMatchObject({ id: batchId, status: 'completed' });
    const failures = delivered.attempts.slice(0, -1);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    for (const a of failures)
      expect(a).toMatchObject({ status_code: null, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(delivered.attempts.at(-1)).toMatchObject({ status_code: 204, error: null });
    expect(delivered.next_attempt_at).toBeNull();
  });

  test('500s then 200: retried on the schedule with the same webhook-id; the log keeps every answer', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret], (i) =>
      i < 2 ? { kind: 'status', status: 500, body: 'database is down' } : { kind: 'ok' },
    );
    const batchId = await submit({ webhook: { url: r.url, secret } });
    const d = await deliveryWhen(batchId, succeeded, 'the delivery to succeed');
    expect(d.attempts.map((a: Json) => a.status_code)).toEqual([500, 500, 204]);
    expect(d.attempts[0].response_excerpt).toBe('database is down');
    expect(new Set(r.requests.map((q) => q.webhookId))).toEqual(new Set([d.webhook_id]));
    expect(r.requests.every((q) => q.verifiedBy.length === 1)).toBe(true);
  });

  test('a receiver slower than the timeout counts as a failure and is retried', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret], (i) => (i === 0 ? { kind: 'hang' } : { kind: 'ok' }));
    const batchId = await submit({ webhook: { url: r.url, secret } });
    const d = await deliveryWhen(batchId, succeeded, 'the delivery to succeed');
    expect(d.attempts[0]).toMatchObject({ status_code: null, error: 'timeout' });
    expect(d.attempts[1]).toMatchObject({ status_code: 204 });
    expect(r.requests.map((q) => q.webhookId)).toEqual([d.webhook_id, d.webhook_id]);
  });

  test('429 with Retry-After: the next attempt waits at least as long as asked', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret], (i) =>
      i === 0 ? { kind: 'status', status: 429, headers: { 'retry-after': '2' } } : { kind: 'ok' },
    );
    const batchId = await submit({ webhook: { url: r.url, secret } });
    const d = await deliveryWhen(batchId, succeeded, 'the delivery to succeed');
    expect(d.attempts.map((a: Json) => a.status_code)).toEqual([429, 204]);
    // The schedule alone would retry after ~300 ms.
    expect(Date.parse(d.attempts[1].at) - Date.parse(d.attempts[0].at)).toBeGreaterThanOrEqual(2000);
  });

  test('a tampered body fails verification; the untouched delivery verifies', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret]);
    const batchId = await submit({ webhook: { url: r.url, secret } });
    const [got] = await r.waitForAccepted('the delivery', (a) => a.length === 1);
    if (got === undefined) throw new Error('no delivery');
    expect(verifyWebhook({ secret, rawBody: got.rawBody, headers: got.headers })).toMatchObject({
      type: 'batch.completed',
      data: { id: batchId },
    });
    const tampered = got.rawBody.replace('"completed"', '"cancelled"');
    expect(tampered).not.toBe(got.rawBody);
    expect(() => verifyWebhook({ secret, rawBody: tampered, headers: got.headers })).toThrow(
      WebhookVerificationError,
    );
    // The receiver itself refuses a replay with a changed body.
    const res = await fetch(r.url, {
      method: 'POST',
      body: tampered,
      headers: Object.fromEntries(
        ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(got.headers[h])]),
      ),
    });
    expect(res.status).toBe(400);
  });

  test('redeliver from the log: a new attempt series, same webhook-id and body', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret]);
    const batchId = await submit({ webhook: { url: r.url, secret } });
    const d = await deliveryWhen(batchId, succeeded, 'the first delivery');
    await r.waitForAccepted('the first delivery', (a) => a.length === 1);

    expect((await api('POST', `/v1/deliveries/${d.id}/redeliver`, undefined, stack.otherApiKey)).status).toBe(
      404,
    );
    const again = await api('POST', `/v1/deliveries/${d.id}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ id: d.id, status: 'pending', redeliveries: 1 });

    const both = await r.waitForAccepted('the redelivery', (a) => a.length === 2);
    expect(both.map((q) => q.webhookId)).toEqual([d.webhook_id, d.webhook_id]);
    expect(both[1]?.rawBody).toBe(both[0]?.rawBody);
    const after = await waitFor('the log to show the second series', async () => {
      const one = await api('GET', `/v1/deliveries/${d.id}`);
      return one.json.status === 'succeeded' && one.json.attempts.length === 2 ? one.json : undefined;
    });
    expect(after.attempts.map((a: Json) => a.series)).toEqual([0, 1]);
  });

  test('a retried batch that ends again sends a new batch.completed, under a new webhook-id', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret]);
    const created = await api('POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      // The simulator blocks prompts with "forbidden": that item fails for good, every round.
      items: [
        { custom_id: 'ok', prompt: 'Product shot' },
        { custom_id: 'blocked', prompt: 'forbidden product shot' },
      ],
      webhook: { url: r.url, secret },
    });
    expect(created.status).toBe(201);
    const batchId = created.json.id;
    const [first] = await r.waitForAccepted('the first batch.completed', (a) => a.length === 1);
    expect(first?.payload?.data.counts).toMatchObject({ succeeded: 1, failed: 1 });
    const retried = await api('POST', `/v1/batches/${batchId}/retry`, {});
    expect(retried.status, JSON.stringify(retried.json)).toBe(200);
    const both = await r.waitForAccepted('the second batch.completed', (a) => a.length === 2);
    expect(both.map((q) => q.payload?.type)).toEqual(['batch.completed', 'batch.completed']);
    expect(both[1]?.webhookId).not.toBe(both[0]?.webhookId);
    const log = await api('GET', `/v1/batches/${batchId}/deliveries`);
    expect(log.json.data.filter((d: Json) => d.event_type === 'batch.completed')).toHaveLength(2);
  });

  test('item events one by one when asked (item_events: each): links to every output', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret]);
    const batchId = await submit(
      { webhook: { url: r.url, secret, events: ['item.succeeded', 'batch.completed'], item_events: 'each' } },
      3,
    );
    const got = await r.waitForAccepted('3 item events and the batch event', (a) => a.length === 4);
    const items = got.filter((q) => q.payload?.type === 'item.succeeded');
    expect(items).toHaveLength(3);
    expect(new Set(items.map((q) => q.webhookId)).size).toBe(3);
    for (const q of items) {
      const item = q.payload?.data;
      expect(item).toMatchObject({ batch_id: batchId, status: 'succeeded' });
      expect(item.prompt).toBeUndefined();
      expect(item.outputs[0].key).toContain(batchId);
      expect((await fetch(item.outputs[0].url)).status).toBe(200);
      expect(Buffer.byteLength(q.rawBody)).toBeLessThan(20_000);
    }
  });
});

describe('tenant webhook endpoints', () => {
  test('item events grouped for a batch: every item exactly once, in fewer POSTs than items', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret]);
    const created = await api('POST', '/v1/webhook-endpoints', {
      url: r.url,
      secret,
      events: ['item.succeeded', 'item.failed', 'batch.completed'],
      item_events: 'grouped',
      item_group_max_items: 5,
      item_group_max_wait_s: 1,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const endpointId = created.json.id;
    try {
      const batchId = await submit({}, 12);
      await r.waitForAccepted('batch.completed', (a) =>
        a.some((q) => q.payload?.type === 'batch.completed' && q.payload.data.id === batchId),
      );
      const got = await r.waitForAccepted(
        'all 12 items',
        (a) =>
          a
            .filter((q) => q.payload?.type === 'items.completed' && q.payload.data.batch_id === batchId)
            .reduce((n, q) => n + q.payload?.data.count, 0) >= 12,
      );
      const groups = got.filter(
        (q) => q.payload?.type === 'items.completed' && q.payload.data.batch_id === batchId,
      );
      expect(groups.length).toBeLessThan(12);
      const ids = groups.flatMap((q) => q.payload?.data.items.map((i: Json) => i.custom_id));
      expect(ids.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `sku-${i}`).sort());
      for (const q of groups) {
        expect(q.payload?.data.items.length).toBeLessThanOrEqual(5);
        expect(q.payload?.data.items.length).toBe(q.payload?.data.count);
        for (const i of q.payload?.data.items ?? []) {
          expect(i).toMatchObject({
            status: 'succeeded',
            outputs: [{ key: expect.any(String), url: expect.any(String) }],
          });
        }
      }
      const log = await api('GET', `/v1/webhook-endpoints/${endpointId}/deliveries?limit=100`);
      expect(
        log.json.data.filter((d: Json) => d.event_type === 'items.completed' && d.batch_id === batchId),
      ).toHaveLength(groups.length);
    } finally {
      await api('DELETE', `/v1/webhook-endpoints/${endpointId}`);
    }
  });

  test('secret rotation: deliveries carry both signatures, each verifies on its own', async () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const r = await receiver([oldSecret, newSecret]);
    const created = await api('POST', '/v1/webhook-endpoints', { url: r.url, secret: oldSecret });
    const endpointId = created.json.id;
    try {
      const first = await submit({});
      const [before] = await r.waitForAccepted('the first event', (a) =>
        a.some((q) => q.payload?.data.id === first),
      );
      expect(before?.verifiedBy).toEqual([0]);
      expect(String(before?.headers['webhook-signature']).split(' ')).toHaveLength(1);

      const rotated = await api('POST', `/v1/webhook-endpoints/${endpointId}/rotate-secret`, {
        secret: newSecret,
      });
      expect(rotated.status).toBe(200);
      expect(rotated.json.secret).toBe(newSecret);
      expect(Date.parse(rotated.json.previous_secret_expires_at) - Date.now()).toBeGreaterThan(
        23 * 3600 * 1000,
      );
      expect((await api('GET', `/v1/webhook-endpoints/${endpointId}`)).json.secret).toBeUndefined();

      const second = await submit({});
      const got = await r.waitForAccepted('the second event', (a) =>
        a.some((q) => q.payload?.data.id === second),
      );
      const after = got.find((q) => q.payload?.data.id === second);
      expect(String(after?.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(after?.verifiedBy).toEqual([0, 1]);
    } finally {
      await api('DELETE', `/v1/webhook-endpoints/${endpointId}`);
    }
  });

  test('a cancelled batch sends batch.cancelled (not batch.completed) to a subscribed endpoint', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret]);
    const created = await api('POST', '/v1/webhook-endpoints', { url: r.url, secret });
    expect(created.json.events).toEqual(['batch.completed', 'batch.cancelled']);
    const endpointId = created.json.id;
    try {
      const batchId = await submit({}, 300);
      const cancel = await api('POST', `/v1/batches/${batchId}/cancel`);
      expect(cancel.status, JSON.stringify(cancel.json)).toBe(200);
      expect(['cancelling', 'cancelled']).toContain(cancel.json.status);
      const [event] = await r.waitForAccepted('batch.cancelled', (a) =>
        a.some((q) => q.payload?.data.id === batchId),
      );
      expect(event?.payload?.type).toBe('batch.cancelled');
      expect(event?.payload?.data).toMatchObject({ id: batchId, status: 'cancelled' });
      expect(event?.payload?.data.counts.cancelled).toBeGreaterThan(0);
      expect(r.accepted().filter((q) => q.payload?.data.id === batchId)).toHaveLength(1);
    } finally {
      await api('DELETE', `/v1/webhook-endpoints/${endpointId}`);
    }
  });

  test('410 Gone disables the endpoint, and the API says why', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver([secret], { kind: 'status', status: 410 });
    const created = await api('POST', '/v1/webhook-endpoints', { url: r.url, secret });
    const endpointId = created.json.id;
    try {
      const batchId = await submit({});
      const endpoint = await waitFor('the endpoint to be disabled', async () => {
        const e = await api('GET', `/v1/webhook-endpoints/${endpointId}`);
        return e.json.enabled === false ? e.json : undefined;
      });
      expect(endpoint.disabled_reason).toBe('gone');
      const d = await deliveryWhen(
        batchId,
        (x) => x.endpoint_id === endpointId && x.status === 'failed',
        'failed',
      );
      expect(d).toMatchObject({ failure_reason: 'gone', attempts: [{ status_code: 410 }] });
      // Disabled: redelivery is refused until it is re-enabled.
      expect((await api('POST', `/v1/deliveries/${d.id}/redeliver`)).json.error.code).toBe(
        'endpoint_disabled',
      );
      r.behave({ kind: 'ok' });
      const enabled = await api('PATCH', `/v1/webhook-endpoints/${endpointId}`, { enabled: true });
      expect(enabled.json).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
      expect((await api('POST', `/v1/deliveries/${d.id}/redeliver`)).status).toBe(202);
      await r.waitForAccepted('the redelivery', (a) => a.length === 1);
    } finally {
      await api('DELETE', `/v1/webhook-endpoints/${endpointId}`);
    }
  });
});

describe('the subscription is the contract', () => {
  test('each target gets exactly the types it subscribed to, item events one by one unless it chose items.completed', async () => {
    const secret = generateWebhookSecret();
    const [own, grouped, failedOnly] = await Promise.all([
      receiver([secret]),
      receiver([secret]),
      receiver([secret]),
    ]);
    const endpoint = async (url: string, events: string[]) => {
      const r = await api('POST', '/v1/webhook-endpoints', { url, secret, events, item_group_max_wait_s: 1 });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      return r.json.id as string;
    };
    const groupedId = await endpoint(grouped.url, ['items.completed']);
    const failedId = await endpoint(failedOnly.url, ['item.failed']);
    try {
      // The receiver: item types named, no item_events.
      const r = await api('POST', '/v1/batches', {
        model: 'gemini-3-pro-image',
        items: [
          ...Array.from({ length: 3 }, (_, i) => ({ custom_id: `ok-${i}`, prompt: `Product shot ${i}` })),
          { custom_id: 'bad', prompt: 'Something forbidden' },
        ],
        webhook: { url: own.url, secret, events: ['batch.completed', 'item.succeeded', 'item.failed'] },
      });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      const batchId = r.json.id;
      const ownGot = await own.waitForAccepted(
        '3 item.succeeded, 1 item.failed, batch.completed',
        (a) => a.length >= 5,
      );
      await grouped.waitForAccepted(
        'all 4 items grouped',
        (a) =>
          a
            .filter((q) => q.payload?.data.batch_id === batchId)
            .reduce((n, q) => n + q.payload?.data.count, 0) >= 4,
      );
      await failedOnly.waitForAccepted('the item.failed', (a) => a.length >= 1);

      const types = (got: { payload?: Json }[]) => got.map((q) => q.payload?.type).sort();
      expect(types(ownGot)).toEqual([
        'batch.completed',
        'item.failed',
        'item.succeeded',
        'item.succeeded',
        'item.succeeded',
      ]);
      expect(new Set(ownGot.map((q) => q.webhookId)).size).toBe(5);
      expect(types(failedOnly.accepted())).toEqual(['item.failed']);
      expect(failedOnly.accepted()[0]?.payload?.data).toMatchObject({ custom_id: 'bad', status: 'failed' });
      const groups = grouped.accepted().filter((q) => q.payload?.data.batch_id === batchId);
      expect(new Set(types(grouped.accepted()))).toEqual(new Set(['items.completed']));
      expect(groups.flatMap((q) => q.payload?.data.items.map((i: Json) => i.custom_id)).sort()).toEqual([
        'bad',
        'ok-0',
        'ok-1',
        'ok-2',
      ]);
      // The delivery log agrees: nothing else was recorded for any of the three targets.
      const log = (await api('GET', `/v1/batches/${batchId}/deliveries?limit=100`)).json.data as Json[];
      const per = (endpointId: string | null) =>
        log
          .filter((d) => d.endpoint_id === endpointId)
          .map((d) => d.event_type)
          .sort();
      expect(per(null)).toEqual(types(ownGot));
      expect(per(failedId)).toEqual(['item.failed']);
      expect(new Set(per(groupedId))).toEqual(new Set(['items.completed']));
    } finally {
      await api('DELETE', `/v1/webhook-endpoints/${groupedId}`);
      await api('DELETE', `/v1/webhook-endpoints/${failedId}`);
    }
  });
});
