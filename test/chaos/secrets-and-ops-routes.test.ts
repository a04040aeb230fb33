import { generateWebhookSecret } from '@pixelmill/webhooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../support/processes.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { type ChaosStack, chaosItems, startChaosStack } from './support/chaos-stack.js';

let stack: ChaosStack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
const secret = generateWebhookSecret();

beforeAll(async () => {
  // Some provider calls fail (5xx, resets, text-only answers), so error paths are logged too.
  stack = await startChaosStack({
    workers: 1,
    sim: { latencyMs: { min: 20, max: 80 }, faults: { http5xx: 0.15, reset: 0.05, noImage: 0.05 } },
  });
  receiver = await startWebhookReceiver(secret);
});

afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.apiUrl}${path}`, { headers, signal: AbortSignal.timeout(10_000) });

describe('operations routes end to end', () => {
  test('/metrics, /docs and /admin/queues (admin key as bearer or basic password)', async () => {
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    for (const name of ['pixelmill_queue_jobs{', 'pixelmill_items{', 'pixelmill_batches', 'process_cpu']) {
      expect(text).toContain(name);
    }
    const docs = await get('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');

    expect((await get('/admin/queues')).status).toBe(401);
    expect((await get('/admin/queues', { authorization: `Bearer ${stack.apiKey}` })).status).toBe(401);
    const page = await get('/admin/queues', { authorization: `Bearer ${stack.adminKey}` });
    expect(page.status).toBe(200);
    const basic = Buffer.from(`admin:${stack.adminKey}`).toString('base64');
    const api = await get('/admin/queues/api/queues', { authorization: `Basic ${basic}` });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(['generate-gemini-3.1-flash-image', 'finalize', 'deliver']));

    const workerPort = Number(/"metrics_port":(\d+)/.exec(stack.workers[0]!.output())?.[1]);
    const workerMetrics = await (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).text();
    expect(workerMetrics).toContain(
      'pixelmill_limiter_effective_rpm{resource="gemini|gemini-3.1-flash-image|',
    );
  });
});

describe('no secret, key or image bytes in logs or errors', () => {
  test('a batch with a webhook, failures and bad requests at LOG_LEVEL=debug leaks nothing', async () => {
    const batchId = await stack.submit(
      chaosItems(12, 'secrets', (i) => ({ n: (i % 2) + 1 })),
      {
        webhook: { url: receiver.url, secret, events: ['batch.completed'] },
      },
    );
    // Wrong keys that contain the real ones, a malformed body, another tenant's batch.
    const wrong = await stack.call('GET', '/v1/batches', undefined, `${stack.apiKey}x`);
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.json)).not.toContain(stack.apiKey);
    const adminWrong = await get('/admin/queues', { authorization: `Bearer ${stack.adminKey}x` });
    expect(await adminWrong.text()).not.toContain(stack.adminKey);
    expect((await stack.call('POST', '/v1/batches', { model: 'x', items: 'nope' })).status).toBe(400);
    expect((await stack.call('GET', `/v1/batches/${batchId}`, undefined, stack.otherApiKey)).status).toBe(
      404,
    );

    await stack.waitForBatch(batchId, 90_000);
    await waitFor('the batch.completed webhook', () => (receiver.received.length > 0 ? true : undefined));
    const metrics = await (await get('/metrics')).text();

    const output = stack.output();
    expect(output).toContain('"level":20'); // debug lines were written
    const secrets = {
      'tenant API key': stack.apiKey,
      'other tenant API key': stack.otherApiKey,
      'admin key': stack.adminKey,
      'provider key 1': 'sim-chaos-key-1',
      'provider key 2': 'sim-chaos-key-2',
      'webhook secret': secret,
      'webhook secret body': secret.replace(/^whsec_/, ''),
      'S3 secret key': 'S3RVER',
      'base64 PNG': 'iVBORw0KGgo',
    };
    for (const [what, value] of Object.entries(secrets)) {
      expect(output.includes(value), `${what} appears in a service's output`).toBe(false);
      expect(metrics.includes(value), `${what} appears in /metrics`).toBe(false);
    }
  });
});
