/**
 * @module CPU time of the HTTP client alone, per POST: pixelmill's delivery attempt (signing, then
 * `deliverWebhook`: SSRF check, the pinned request on a pooled connection, the answer read up to its
 * cap) against a plain `fetch` sending the same headers and body, both in this process, alternating, with the receiver in a child process so that
 * only the client's CPU is counted. No Redis, no queue: the part of a delivery that the HTTP client
 * costs, measured with little sensitivity to other load on the machine (CPU time, not rates).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { deliverWebhook, generateWebhookSecret, signWebhook } from '@pixelmill/webhooks';

export interface ClientCostResult {
  requestsPerRound: number;
  /** µs of this process's CPU (user + system) per POST, one entry per round. */
  pixelmillUs: number[];
  fetchUs: number[];
}

/** A receiver answering 204 to every POST, as the throughput part's receiver does. */
const RECEIVER = `
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0)).resume();
`;

async function startReceiver(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${Number(chunk.toString().trim())}/hooks`, child };
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** `concurrency` loops posting until `requests` have been answered; CPU µs per request. */
async function cpuPerRequest(
  requests: number,
  concurrency: number,
  post: () => Promise<void>,
): Promise<number> {
  let next = 0;
  const before = cpuUs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next += 1;
        await post();
      }
    }),
  );
  return (cpuUs() - before) / requests;
}

export async function measureClientCost({
  requests = 5000,
  rounds = 3,
  concurrency = 50,
  body,
}: {
  requests?: number;
  rounds?: number;
  concurrency?: number;
  body: string;
}): Promise<ClientCostResult> {
  const receiver = await startReceiver();
  const secret = generateWebhookSecret();
  let sent = 0;
  const sign = () => signWebhook({ secret, msgId: `msg_bench${sent++}`, timestamp: new Date(), body });
  const pixelmill = async (): Promise<void> => {
    const result = await deliverWebhook({ url: receiver.url, headers: sign(), body, allowPrivate: true });
    if (!result.ok) throw new Error(`delivery failed: ${result.status ?? result.error}`);
  };
  // The same header names and sizes, computed once: a plain client sends what it is given.
  const fixedHeaders = sign();
  const plain = async (): Promise<void> => {
    const res = await fetch(receiver.url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'bench', ...fixedHeaders },
    });
    await res.arrayBuffer();
    if (res.status !== 204) throw new Error(`fetch got ${res.status}`);
  };
  try {
    // Warm-up of both clients (JIT, connections), not counted.
    await cpuPerRequest(requests / 5, concurrency, pixelmill);
    await cpuPerRequest(requests / 5, concurrency, plain);
    const result: ClientCostResult = { requestsPerRound: requests, pixelmillUs: [], fetchUs: [] };
    for (let r = 0; r < rounds; r++) {
      result.pixelmillUs.push(await cpuPerRequest(requests, concurrency, pixelmill));
      result.fetchUs.push(await cpuPerRequest(requests, concurrency, plain));
    }
    return result;
  } finally {
    const exited = receiver.child.exitCode === null ? once(receiver.child, 'exit') : undefined;
    receiver.child.stdin?.end();
    await exited;
  }
}
