import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAgentPools } from './agent-pool.js';
import { guardedFetch } from './guarded-fetch.js';
import type { LookupAll } from './ssrf.js';

let server: Server;
let port: number;
const sockets = new Set<Socket>();
/** Requests seen per socket: a socket's second request is cut when `cutReused` is set. */
const perSocket = new Map<Socket, number>();
let cutReused = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    req.resume();
    req.on('end', () => {
      // As a receiver whose idle timeout closed the socket just as the next request was sent.
      if (cutReused && n > 1) req.socket.destroy();
      else res.writeHead(204).end();
    });
  });
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(() => {
  closeAgentPools();
  sockets.clear();
  perSocket.clear();
  cutReused = false;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const post = (lookup: LookupAll) =>
  guardedFetch({
    url: `http://hooks.example.test:${port}/in`,
    method: 'POST',
    body: '{}',
    allowPrivate: true,
    lookup,
    timeoutMs: 2_000,
    maxResponseBytes: 100,
    oversize: 'truncate',
  });

const resolvesTo =
  (address: string): LookupAll =>
  async () => [{ address, family: 4 }];

describe('pooled connections per pinned address', () => {
  it('reuses one connection for requests checked to the same address', async () => {
    for (let i = 0; i < 5; i++) expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    expect(sockets.size).toBe(1);
  });

  it('never sends over a pooled socket when the check resolved the name elsewhere (rebinding)', async () => {
    expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    // An idle socket to 127.0.0.1 is pooled; the name now resolves to 127.0.0.2, where nothing listens.
    await expect(post(resolvesTo('127.0.0.2'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    expect(sockets.size).toBe(1);
  });

  it('sends again on a fresh connection when a reused socket was closed by the receiver', async () => {
    expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    cutReused = true;
    expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    expect(sockets.size).toBe(2);
  });
});
