// The SSRF guard with PIXELMILL_WEBHOOK_ALLOW_PRIVATE off, as in production: private targets are refused
// when an endpoint or batch is created, and again at send time (for a URL that became private later,
// e.g. through DNS, simulated here by writing the endpoint straight into Redis).
import { EndpointStore, newEndpointId } from '@pixelmill/core';
import { generateWebhookSecret } from '@pixelmill/webhooks';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type FlakyReceiver, startFlakyReceiver } from '../support/flaky-receiver.js';
import { waitFor } from '../support/processes.js';
import { call, REDIS_URL, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let receiver: FlakyReceiver;
let redis: Redis;
const secret = generateWebhookSecret();

beforeAll(async () => {
  stack = await startStack({
    workers: 1,
    sim: { latencyMs: { min: 5, max: 20 } },
    env: { PIXELMILL_WEBHOOK_ALLOW_PRIVATE: 'false', PIXELMILL_WEBHOOK_SCHEDULE_MS: '0,100,200' },
  });
  receiver = await startFlakyReceiver([secret]);
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  await redis?.quit();
  await receiver?.close();
  await stack?.stop();
});

const targets = [
  'http://127.0.0.1:9/hooks',
  'http://10.0.0.7/hooks',
  'http://169.254.169.254/latest/meta-data/',
  'http://localhost:9/hooks',
];

describe('SSRF guard', () => {
  test.each(targets)('refuses %s for an endpoint and for a batch webhook', async (url) => {
    const endpoint = await call(stack, stack.apiKey, 'POST', '/v1/webhook-endpoints', { url });
    expect(endpoint.status).toBe(400);
    expect(endpoint.json.error.details).toEqual([{ path: 'url', message: expect.stringMatching(/public/) }]);
    const batch = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      items: [{ custom_id: 'a', prompt: 'p' }],
      webhook: { url },
    });
    expect(batch.status).toBe(400);
    expect(batch.json.error.details.map((d: { path: string }) => d.path)).toContain('webhook.url');
  });

  test('refuses at send time too: a loopback receiver never gets a request', async () => {
    const id = newEndpointId();
    await new EndpointStore(redis, stack.prefix).create('acme', {
      id,
      url: receiver.url,
      description: 'written past the API',
      events: ['batch.completed'],
      item_group_max_items: 100,
      item_group_max_wait_s: 10,
      enabled: true,
      secret,
    });
    const created = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      items: [{ custom_id: 'a', prompt: 'p' }],
    });
    expect(created.status).toBe(201);
    const delivery = await waitFor('the delivery to give up', async () => {
      const r = await call(stack, stack.apiKey, 'GET', `/v1/webhook-endpoints/${id}/deliveries`);
      const d = r.json.data[0];
      return d?.status === 'failed' ? d : undefined;
    });
    expect(delivery.failure_reason).toBe('exhausted');
    expect(delivery.attempts).toHaveLength(3);
    for (const a of delivery.attempts) {
      expect(a).toMatchObject({
        status_code: null,
        error: expect.stringMatching(/127\.0\.0\.1 \(loopback\)/),
      });
    }
    expect(receiver.requests).toHaveLength(0);
    const endpoint = await call(stack, stack.apiKey, 'GET', `/v1/webhook-endpoints/${id}`);
    expect(endpoint.json.failing_since).not.toBeNull();
  });
});
