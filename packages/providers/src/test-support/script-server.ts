/**
 * A tiny HTTP server for adapter tests: answers each request with the next scripted response and
 * records what was sent, so tests can assert request bodies and attempt counts over real HTTP.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
  /** Never answer (until the server closes): for deadline tests. */
  hang?: boolean;
  /** Destroy the socket without an answer: a connection reset. */
  reset?: boolean;
}

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json(): unknown;
}

type Script = ScriptedResponse | ((req: RecordedRequest) => ScriptedResponse);

export interface ScriptServer {
  url: string;
  requests: RecordedRequest[];
  /** Queue responses, consumed one per request; an empty queue answers 599. */
  reply(...responses: Script[]): void;
  close(): Promise<void>;
}

export async function startScriptServer(): Promise<ScriptServer> {
  const queue: Script[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        json: () => JSON.parse(body.toString('utf8')),
      };
      requests.push(recorded);
      const next = queue.shift();
      const scripted =
        typeof next === 'function' ? next(recorded) : (next ?? { status: 599, body: 'unscripted' });
      if (scripted.hang) return;
      if (scripted.reset) {
        req.socket.destroy();
        return;
      }
      const payload =
        typeof scripted.body === 'string' || Buffer.isBuffer(scripted.body)
          ? scripted.body
          : JSON.stringify(scripted.body ?? {});
      const isJson = !(typeof scripted.body === 'string' || Buffer.isBuffer(scripted.body));
      res.writeHead(scripted.status ?? 200, {
        ...(isJson ? { 'content-type': 'application/json' } : {}),
        ...scripted.headers,
      });
      res.end(payload);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: (...responses) => queue.push(...responses),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
