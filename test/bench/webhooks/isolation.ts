/**
 * @module Generation makespan with healthy webhook receivers vs receivers that never answer (every
 * delivery waits out the full 15 s timeout), with one POST per item to two targets (the worst case).
 * The ratio of makespans should stay near 1 because deliveries have their own queue and workers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateWebhookSecret } from '@pixelmill/webhooks';
import { waitFor } from '../../support/processes.js';
import { call, type Stack, startStack } from '../../support/stack.js';

export interface IsolationRun {
  receivers: 'healthy' | 'hanging';
  items: number;
  makespanS: number;
  /** Deliveries still pending when the batch completed (hanging: most of them). */
  pendingDeliveries: number;
}

const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [sim-key-1, sim-key-2]
    models:
      - id: gemini-3.1-flash-image
        rpm: 100000
        concurrency: 8
        timeout_s: 30
`;

async function receiver(hang: boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    if (!hang) req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function runBatch(
  stack: Stack,
  items: number,
  urls: { batch: string; endpointId: string; endpoint: string },
) {
  const patched = await call(stack, stack.apiKey, 'PATCH', `/v1/webhook-endpoints/${urls.endpointId}`, {
    url: urls.endpoint,
  });
  if (patched.status !== 200) throw new Error(`PATCH endpoint: ${JSON.stringify(patched.json)}`);
  const started = performance.now();
  const created = await call(stack, stack.apiKey, 'POST', '/v1/batches', {
    model: 'gemini-3.1-flash-image',
    defaults: { size: '1K' },
    items: Array.from({ length: items }, (_, i) => ({
      custom_id: `sku-${i}`,
      prompt: `Product shot ${i} [sim:64x64]`,
    })),
    // One POST per item to the batch's webhook and to the endpoint: the worst case for isolation.
    webhook: {
      url: urls.batch,
      secret: generateWebhookSecret(),
      events: ['batch.completed', 'item.succeeded', 'item.failed'],
      item_events: 'each',
    },
  });
  if (created.status !== 201) throw new Error(`POST batch: ${JSON.stringify(created.json)}`);
  const id: string = created.json.id;
  await waitFor(
    'the batch to complete',
    async () =>
      (await call(stack, stack.apiKey, 'GET', `/v1/batches/${id}`)).json.status === 'completed'
        ? true
        : undefined,
    { timeoutMs: 600_000, intervalMs: 50 },
  );
  const makespanS = (performance.now() - started) / 1000;
  const log = await call(stack, stack.apiKey, 'GET', `/v1/batches/${id}/deliveries?limit=1000`);
  const pending = (log.json.data as { status: string }[]).filter((d) => d.status === 'pending').length;
  return { makespanS, pendingDeliveries: pending };
}

interface Side {
  stack: Stack;
  endpointId: string;
}

async function startSide(healthyUrl: string): Promise<Side> {
  const stack = await startStack({
    workers: 1,
    config,
    // Provider latency, not CPU, bounds the makespan (the prompts ask the simulator for 64x64 images),
    // so other load on the machine matters less.
    sim: { latencyMs: { min: 800, max: 800 } },
    env: { PIXELMILL_WEBHOOK_TIMEOUT_MS: '15000', WORKER_CONCURRENCY: '16' },
  });
  const endpoint = await call(stack, stack.apiKey, 'POST', '/v1/webhook-endpoints', {
    url: healthyUrl,
    events: ['batch.completed', 'item.succeeded', 'item.failed'],
    item_events: 'each',
  });
  if (endpoint.status !== 201) throw new Error(`POST endpoint: ${JSON.stringify(endpoint.json)}`);
  return { stack, endpointId: endpoint.json.id };
}

/**
 * Two identical stacks run the same batch at the same time, one with healthy receivers and one with
 * hanging ones, swapping roles every round: whatever else loads the machine loads both sides alike,
 * so the ratio of their makespans shows what hanging receivers cost generation.
 */
export async function measureIsolation({ items = 160, rounds = 4 } = {}): Promise<IsolationRun[][]> {
  const healthy = await receiver(false);
  const hanging = await receiver(true);
  const sides: Side[] = [];
  try {
    sides.push(await startSide(healthy.url), await startSide(healthy.url));
    const run = (side: Side, n: number, url: string) =>
      runBatch(side.stack, n, { batch: url, endpointId: side.endpointId, endpoint: url });
    // Warm-up: module loading, connections, limiter state.
    await Promise.all(sides.map((side) => run(side, Math.min(50, items), healthy.url)));
    const out: IsolationRun[][] = [];
    for (let r = 0; r < rounds; r++) {
      const roles = (
        r % 2 === 0 ? ['healthy', 'hanging'] : ['hanging', 'healthy']
      ) as IsolationRun['receivers'][];
      const results = await Promise.all(
        sides.map((side, i) =>
          run(side, items, roles[i] === 'healthy' ? healthy.url : hanging.url).then((res) => ({
            receivers: roles[i] as IsolationRun['receivers'],
            items,
            ...res,
          })),
        ),
      );
      out.push(results);
    }
    return out;
  } finally {
    await healthy.close();
    await hanging.close();
    await Promise.all(sides.map((side) => side.stack.stop()));
  }
}
