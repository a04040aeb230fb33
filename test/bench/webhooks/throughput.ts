/**
 * @module Deliveries per second through pixelmill's deliver path (delivery record and job written to
 * Redis, a worker process taking them from the BullMQ deliver queue, signing, SSRF check, the POST on
 * a pooled keep-alive connection to the checked address, attempt logged) against a plain `fetch` loop
 * posting the same body to the same receiver with the same concurrency.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointStore, messageIdFor, newEndpointId, Queues } from '@pixelmill/core';
import { enqueueDelivery, generateWebhookSecret } from '@pixelmill/webhooks';
import { Redis } from 'ioredis';
import { REDIS_URL, startStack } from '../../support/stack.js';

export interface ThroughputResult {
  deliveries: number;
  warmup: number;
  /** The body every delivery posted. */
  body: string;
  concurrency: number;
  pixelmillPerS: number;
  fetchPerS: number;
  /** When the last delivery was queued, and when the last one arrived (s from the first enqueue). */
  queuedAfterS: number;
  pixelmillS: number;
  /**
   * CPU time per delivery (user + system, µs): the benchmark process running the fetch loop and the
   * receiver; the worker process delivering; the benchmark process queueing and receiving meanwhile.
   * Less sensitive to other load on the machine than the rates. The worker's is null off Linux.
   */
  /** Connections the receiver accepted during each counted part. */
  connections: { fetchLoop: number; pixelmill: number };
  cpuUsPerDelivery: { fetchLoop: number; worker: number | null; queueAndReceive: number; redis: number };
}

/** CPU time (µs, user + system) a process has used so far, from /proc; null where there is none. */
function processCpuUs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1e6) / 100;
  } catch {
    return null;
  }
}

/**
 * CPU time (µs, user + system) the Redis server has used so far (INFO cpu). A Redis shared with other
 * clients counts their commands too: an upper bound then.
 */
async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

const ownCpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function startReceiver(): Promise<{
  url: string;
  count: () => number;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let n = 0;
  let connections = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n += 1;
      res.writeHead(204).end();
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    count: () => n,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * `warmup`: requests each side makes first, not counted (JIT, connections): a long-running service's
 * speed rather than a fresh process's. 0 measures both sides cold.
 */
export async function measureThroughput({ deliveries = 2000, warmup = 0 } = {}): Promise<ThroughputResult> {
  // One worker process: its deliver worker runs 50 attempts at a time (services/worker/src/workers.ts).
  const concurrency = 50;
  const stack = await startStack({ workers: 1, env: {} });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = new Queues(redis, stack.prefix);
  const receiver = await startReceiver();
  const body = JSON.stringify({
    type: 'batch.completed',
    timestamp: new Date().toISOString(),
    data: { id: 'batch_bench', counts: { total: 1000, succeeded: 1000 }, padding: 'x'.repeat(1500) },
  });
  try {
    // Baseline: the same POSTs with fetch (undici, keep-alive), `concurrency` at a time.
    const fetchLoop = async (count: number): Promise<void> => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) {
            next += 1;
            const res = await fetch(receiver.url, {
              method: 'POST',
              body,
              headers: { 'content-type': 'application/json' },
            });
            await res.arrayBuffer();
          }
        }),
      );
    };
    if (warmup > 0) await fetchLoop(warmup);
    const fetchConnections0 = receiver.connections();
    const fetchCpu0 = ownCpuUs();
    const started = performance.now();
    await fetchLoop(deliveries);
    const fetchS = (performance.now() - started) / 1000;
    const fetchCpuUs = ownCpuUs() - fetchCpu0;
    const fetchConnections = receiver.connections() - fetchConnections0;

    // pixelmill: deliveries recorded and queued as events would be, sent by the worker process.
    const endpointId = newEndpointId();
    await new EndpointStore(redis, stack.prefix).create('acme', {
      id: endpointId,
      url: receiver.url,
      description: 'bench',
      events: ['batch.completed'],
      item_group_max_items: 100,
      item_group_max_wait_s: 10,
      enabled: true,
      secret: generateWebhookSecret(),
    });
    const target = { id: endpointId, endpointId };
    let queued = 0;
    /** Enqueued 100 at a time, as many item ends across worker processes would; waits for arrival. */
    const deliverAll = async (count: number): Promise<number> => {
      const before = receiver.count();
      const start = performance.now();
      for (let i = 0; i < count; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, count - i) }, () => {
            const n = queued++;
            return enqueueDelivery(
              { redis, queues },
              {
                tenantId: 'acme',
                batchId: `batch_bench${Math.floor(n / 100)}`,
                target,
                url: receiver.url,
                eventType: 'batch.completed',
                webhookId: messageIdFor('batch.completed', `bench-${n}`),
                body,
              },
            );
          }),
        );
      }
      const queuedS = (performance.now() - start) / 1000;
      await until(() => receiver.count() - before >= count, 300_000);
      return queuedS;
    };
    if (warmup > 0) await deliverAll(warmup);
    const pixelmillConnections0 = receiver.connections();
    const workerPid = stack.workers[0]?.child.pid;
    const workerCpu0 = processCpuUs(workerPid);
    const redisCpu0 = await redisCpuUs(redis);
    const ownCpu0 = ownCpuUs();
    const t0 = performance.now();
    const queuedS = await deliverAll(deliveries);
    const pixelmillS = (performance.now() - t0) / 1000;
    const pixelmillConnections = receiver.connections() - pixelmillConnections0;
    const workerCpu1 = processCpuUs(workerPid);
    const ownCpuUsed = ownCpuUs() - ownCpu0;
    const redisCpuUsed = (await redisCpuUs(redis)) - redisCpu0;
    return {
      deliveries,
      warmup,
      body,
      concurrency,
      pixelmillPerS: deliveries / pixelmillS,
      queuedAfterS: queuedS,
      pixelmillS,
      fetchPerS: deliveries / fetchS,
      connections: { fetchLoop: fetchConnections, pixelmill: pixelmillConnections },
      cpuUsPerDelivery: {
        fetchLoop: fetchCpuUs / deliveries,
        worker: workerCpu0 === null || workerCpu1 === null ? null : (workerCpu1 - workerCpu0) / deliveries,
        queueAndReceive: ownCpuUsed / deliveries,
        redis: redisCpuUsed / deliveries,
      },
    };
  } finally {
    await receiver.close();
    await queues.close();
    await redis.quit();
    await stack.stop();
  }
}
