/**
 * The deliver worker on real parts (Redis, the worker's BullMQ deliver queue, HTTP receivers): fair
 * sharing between a hanging and a fast endpoint, per-endpoint rate limits, and operational events
 * verified by a receiver using the `standardwebhooks` package.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeliveryStore,
  EndpointStore,
  messageIdFor,
  newEndpointId,
  type WebhookEventType,
} from '@pixelmill/core';
import { enqueueDelivery, generateWebhookSecret } from '@pixelmill/webhooks';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Harness, startHarness } from '../test-support/worker-harness.js';

/** Long enough that a loaded machine finishes the fast deliveries well within one hanging attempt. */
const TIMEOUT_MS = 10_000;
let h: Harness;

interface Receiver {
  url: string;
  /** Arrival time (ms since start) and verified payload of each request. */
  got: { at: number; id: string; type: string; data: Record<string, unknown> }[];
  rejected: number;
  open: number;
  maxOpen: number;
  close(): Promise<void>;
}

/** A receiver that verifies every request with `standardwebhooks` and answers as `answer` says. */
async function receiver(
  secret: string,
  answer: (res: ServerResponse) => void = (res) => res.writeHead(204).end(),
): Promise<Receiver> {
  const verifier = new Webhook(secret);
  const started = performance.now();
  const state = { got: [] as Receiver['got'], rejected: 0, open: 0, maxOpen: 0 };
  const server: Server = createServer((req: IncomingMessage, res) => {
    state.open += 1;
    state.maxOpen = Math.max(state.maxOpen, state.open);
    res.on('close', () => {
      state.open -= 1;
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const payload = verifier.verify(
          Buffer.concat(chunks).toString('utf8'),
          req.headers as Record<string, string>,
        ) as {
          type: string;
          data: Record<string, unknown>;
        };
        state.got.push({
          at: performance.now() - started,
          id: String(req.headers['webhook-id']),
          type: payload.type,
          data: payload.data,
        });
        answer(res);
      } catch {
        state.rejected += 1;
        res.writeHead(400).end('bad signature');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/hooks`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

async function endpoint(
  tenant: string,
  url: string,
  secret: string,
  events: WebhookEventType[] = ['batch.completed'],
  rateLimit: number | null = null,
): Promise<string> {
  const id = newEndpointId();
  await new EndpointStore(h.deps.redis, h.deps.queues.prefix).create(tenant, {
    id,
    url,
    description: '',
    events,
    item_group_max_items: 100,
    item_group_max_wait_s: 10,
    enabled: true,
    secret,
    rate_limit: rateLimit,
  });
  return id;
}

/** Records and queues `n` batch.completed deliveries to an endpoint, as event emission does. */
async function send(
  tenant: string,
  batchId: string,
  endpointId: string,
  n: number,
  tag: string,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { id } = await enqueueDelivery(h.deps, {
      tenantId: tenant,
      batchId,
      target: { id: endpointId, endpointId },
      url: 'http://unused.example',
      eventType: 'batch.completed',
      webhookId: messageIdFor('batch.completed', `${tag}-${i}`),
      body: JSON.stringify({ type: 'batch.completed', timestamp: new Date().toISOString(), data: { i } }),
    });
    ids.push(id);
  }
  return ids;
}

async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const statuses = async (ids: string[]) => {
  const store = new DeliveryStore(h.deps.redis, h.deps.queues.prefix);
  return Promise.all(ids.map(async (id) => (await store.getInternal(id))?.status));
};

beforeAll(async () => {
  h = await startHarness({ uploadRetryMs: 1_000, webhookTimeoutMs: TIMEOUT_MS, metrics: true });
});

afterAll(async () => {
  await h?.close();
});

describe('fair sharing', () => {
  test('a hanging endpoint with a backlog does not slow a fast endpoint: its deliveries finish while the hanging ones are pending', async () => {
    const secret = generateWebhookSecret();
    const fast = await receiver(secret);
    // Answers nothing: every attempt waits out the 3 s timeout.
    const slow = await receiver(secret, () => {});
    try {
      const fastId = await endpoint('fair', fast.url, secret);
      const slowId = await endpoint('fair', slow.url, secret);

      // Warm-up (connections, scripts), then the baseline: the fast endpoint alone.
      const warm = await send('fair', 'batch_fairw', fastId, 5, 'warm');
      await until('the warm-up', async () => (await statuses(warm)).every((s) => s === 'succeeded'));
      let t0 = performance.now();
      const alone = await send('fair', 'batch_fair0', fastId, 20, 'alone');
      await until('the fast endpoint alone', async () =>
        (await statuses(alone)).every((s) => s === 'succeeded'),
      );
      const aloneMs = performance.now() - t0;

      // The hanging endpoint's backlog is queued first: without a cap it would take all 50 slots.
      const hanging = await send('fair', 'batch_fair1', slowId, 80, 'hang');
      await until('the hanging endpoint to hold its slots', () => slow.open >= 10 || undefined);
      t0 = performance.now();
      const beside = await send('fair', 'batch_fair2', fastId, 20, 'beside');
      await until('the fast endpoint beside the hanging one', async () =>
        (await statuses(beside)).every((s) => s === 'succeeded'),
      );
      const besideMs = performance.now() - t0;

      // Behaviour: every fast delivery done while no hanging one has ended (they time out at 10 s).
      expect((await statuses(hanging)).every((s) => s === 'pending')).toBe(true);
      expect(slow.maxOpen).toBeLessThanOrEqual(10);
      // Latency: far below the 10 s a slot-starved delivery would wait, and near the baseline.
      expect(besideMs).toBeLessThan(TIMEOUT_MS / 2);
      expect(besideMs / Math.max(aloneMs, 50)).toBeLessThan(5);
      expect(await h.metrics?.webhookWaiting.get()).toMatchObject({
        values: expect.arrayContaining([expect.objectContaining({ labels: { reason: 'slots' } })]),
      });
      await slow.close();
      // Refused from now on: the backlog ends (exhausted) before the next test counts events.
      await until(
        'the hanging backlog to end',
        async () => (await statuses(hanging)).every((s) => s !== 'pending'),
        60_000,
      );
    } finally {
      await fast.close();
      await slow.close().catch(() => {});
    }
  }, 120_000);
});

describe('rate limits', () => {
  test('an endpoint with rate_limit 4 gets at most 4 deliveries in any second, every one delivered with one attempt', async () => {
    const secret = generateWebhookSecret();
    const limited = await receiver(secret);
    try {
      const id = await endpoint('rate', limited.url, secret, ['batch.completed'], 4);
      const ids = await send('rate', 'batch_rate', id, 10, 'rate');
      await until('all rate-limited deliveries', async () =>
        (await statuses(ids)).every((s) => s === 'succeeded'),
      );
      const times = limited.got.map((g) => g.at).sort((a, b) => a - b);
      expect(times).toHaveLength(10);
      let busiest = 0;
      for (let i = 0; i < times.length; i++) {
        busiest = Math.max(
          busiest,
          times.filter((t) => t >= (times[i] as number) && t < (times[i] as number) + 1000).length,
        );
      }
      expect(busiest).toBeLessThanOrEqual(4);
      const store = new DeliveryStore(h.deps.redis, h.deps.queues.prefix);
      for (const d of ids) expect((await store.getInternal(d))?.attempts).toHaveLength(1);
    } finally {
      await limited.close();
    }
  }, 30_000);
});

describe('operational events', () => {
  test('exhausted and disabled events reach the other subscribed endpoints, signed; none about the disabled endpoint to itself, none about an exhausted operational event', async () => {
    const secret = generateWebhookSecret();
    const ops = await receiver(secret);
    const failing = await receiver(secret, (res) => res.writeHead(500).end('down'));
    const gone = await receiver(secret, (res) => res.writeHead(410).end());
    try {
      const opsEvents: WebhookEventType[] = ['message.attempt.exhausted', 'endpoint.disabled'];
      const opsId = await endpoint('ops', ops.url, secret, opsEvents);
      // Fails every batch.completed and every operational event it subscribes to.
      const failingId = await endpoint('ops', failing.url, secret, ['batch.completed', ...opsEvents]);
      const goneId = await endpoint('ops', gone.url, secret, ['batch.completed', 'endpoint.disabled']);
      const exhausted0 = (await h.metrics?.webhookExhausted.get())?.values[0]?.value ?? 0;

      const [toFailing] = await send('ops', 'batch_ops', failingId, 1, 'ops-a');
      await send('ops', 'batch_ops', goneId, 1, 'ops-b');

      await until('two operational events at the ops endpoint', () => ops.got.length >= 2 || undefined);
      // Everything recorded in the batch's log has ended (the failing endpoint's copies too).
      await until('every delivery to end', async () => {
        const page = await new DeliveryStore(h.deps.redis, h.deps.queues.prefix).listForBatch('batch_ops', {
          limit: 100,
        });
        return page.data.length > 0 && page.data.every((d) => d.status !== 'pending') ? page.data : undefined;
      });
      const log = (
        await new DeliveryStore(h.deps.redis, h.deps.queues.prefix).listForBatch('batch_ops', { limit: 100 })
      ).data;

      expect(ops.rejected).toBe(0);
      const byType = Object.fromEntries(ops.got.map((g) => [g.type, g]));
      expect(ops.got.map((g) => g.type).sort()).toEqual(['endpoint.disabled', 'message.attempt.exhausted']);
      expect(byType['message.attempt.exhausted']?.data).toMatchObject({
        delivery_id: toFailing,
        event_type: 'batch.completed',
        endpoint_id: failingId,
        batch_id: 'batch_ops',
        attempts: 1,
        last_attempt: { status_code: 500 },
      });
      expect(byType['endpoint.disabled']?.data).toMatchObject({ endpoint_id: goneId, reason: 'gone' });
      // The endpoint that answered 410 got only its own batch.completed, not the event about itself.
      expect(gone.got.map((g) => g.type)).toEqual(['batch.completed']);
      // The failing endpoint got the disabled event too (it subscribed) and failed it: no event about that.
      const opsDeliveries = log.filter((d) => d.event_type !== 'batch.completed');
      expect(opsDeliveries.map((d) => [d.event_type, d.endpoint_id]).sort()).toEqual(
        [
          ['endpoint.disabled', failingId],
          ['endpoint.disabled', opsId],
          ['message.attempt.exhausted', opsId],
        ].sort(),
      );
      expect((await new EndpointStore(h.deps.redis, h.deps.queues.prefix).get('ops', goneId))?.enabled).toBe(
        false,
      );
      const exhausted1 = (await h.metrics?.webhookExhausted.get())?.values[0]?.value ?? 0;
      // The failing endpoint's batch.completed and its endpoint.disabled copy both gave up.
      expect(exhausted1 - exhausted0).toBe(2);
      const disabled = await h.metrics?.webhookEndpointsDisabled.get();
      expect(disabled?.values.find((v) => v.labels.reason === 'gone')?.value).toBe(1);
    } finally {
      await ops.close();
      await failing.close();
      await gone.close();
    }
  }, 30_000);
});
