// A real HTTP receiver on 127.0.0.1:0 for tests: records every request with its raw body and
// answers with a per-test handler.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

export type Handler = (req: ReceivedRequest, res: ServerResponse) => void;

export interface Receiver {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** Resolves with the next request as soon as its body is read (no sleeping). */
  nextRequest(): Promise<ReceivedRequest>;
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

export async function startReceiver(initial: Handler = (_req, res) => res.end('ok')): Promise<Receiver> {
  let handler = initial;
  const received: ReceivedRequest[] = [];
  const waiters: ((r: ReceivedRequest) => void)[] = [];

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const entry: ReceivedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      rawBody: Buffer.concat(chunks).toString('utf8'),
    };
    received.push(entry);
    waiters.shift()?.(entry);
    handler(entry, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    setHandler: (h) => {
      handler = h;
    },
    close: async () => {
      // Hanging handlers never end their responses: cut them so close() returns.
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
