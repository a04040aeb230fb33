import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { waitFor } from './processes.js';

// biome-ignore lint/suspicious/noExplicitAny: payloads are inspected field by field in tests
export type Json = any;

/** How the receiver answers the next request. */
export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Reads the request and never answers (the sender's timeout must end it). */
  | { kind: 'hang' };

export interface ReceivedRequest {
  at: number;
  webhookId: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Indexes of the receiver's secrets that verify this request on their own (rotation tests). */
  verifiedBy: number[];
  /** Parsed payload when verified. */
  payload: { type: string; timestamp: string; data: Json } | null;
  answered: number | 'hang';
}

export interface FlakyReceiver {
  url: string;
  /** Every request, verified or not, in arrival order. */
  requests: ReceivedRequest[];
  /** Verified requests answered 2xx: what the customer actually accepted. */
  accepted(): ReceivedRequest[];
  /** Sets the answer for coming requests; a function sees how many requests came before. */
  behave(b: Behaviour | ((index: number) => Behaviour)): void;
  /** Stops listening (senders get connection refused) and cuts open connections. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  waitForAccepted(
    what: string,
    check: (accepted: ReceivedRequest[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/**
 * A customer's endpoint on 127.0.0.1 that verifies every delivery from the raw body with the
 * `standardwebhooks` package (against each of its secrets separately) and can be down, slow, failing
 * or rate limiting. Unverifiable requests get 400, as a real receiver would answer.
 */
export async function startFlakyReceiver(secrets: string[]): Promise<FlakyReceiver> {
  const verifiers = secrets.map((s) => new Webhook(s));
  const requests: ReceivedRequest[] = [];
  let behaviour: Behaviour | ((index: number) => Behaviour) = { kind: 'ok' };
  const sockets = new Set<Socket>();
  let port = 0;
  let server: Server | undefined;

  const answer = (res: ServerResponse, entry: ReceivedRequest, b: Behaviour): void => {
    if (entry.verifiedBy.length === 0) {
      entry.answered = 400;
      res.writeHead(400).end('bad signature');
      return;
    }
    if (b.kind === 'hang') {
      entry.answered = 'hang';
      return;
    }
    const status = b.kind === 'ok' ? 204 : b.status;
    entry.answered = status;
    res
      .writeHead(status, b.kind === 'status' ? b.headers : undefined)
      .end(b.kind === 'status' ? (b.body ?? '') : undefined);
  };

  const listen = async (): Promise<void> => {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const headers = req.headers as Record<string, string>;
        const verifiedBy: number[] = [];
        let payload: ReceivedRequest['payload'] = null;
        verifiers.forEach((v, i) => {
          try {
            payload = v.verify(rawBody, headers) as ReceivedRequest['payload'];
            verifiedBy.push(i);
          } catch {
            // not signed with this secret
          }
        });
        const index = requests.length;
        const entry: ReceivedRequest = {
          at: Date.now(),
          webhookId: String(req.headers['webhook-id'] ?? ''),
          headers: req.headers,
          rawBody,
          verifiedBy,
          payload,
          answered: 0,
        };
        requests.push(entry);
        answer(res, entry, typeof behaviour === 'function' ? behaviour(index) : behaviour);
      });
    });
    s.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };

  const down = async (): Promise<void> => {
    const s = server;
    if (s === undefined) return;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  const accepted = () =>
    requests.filter((r) => r.verifiedBy.length > 0 && typeof r.answered === 'number' && r.answered < 300);
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    requests,
    accepted,
    behave: (b) => {
      behaviour = b;
    },
    down,
    up: listen,
    waitForAccepted: (what, check, timeoutMs = 60_000) =>
      waitFor(what, () => (check(accepted()) ? accepted() : undefined), { timeoutMs, intervalMs: 50 }),
    close: down,
  };
}
