import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeConnectionPools } from './connection-pool.js';
import { guardedFetch } from './guarded-fetch.js';
import type { LookupAll } from './ssrf.js';

let server: Server;
let port: number;
const sockets = new Set<Socket>();
/** Requests seen per socket: a socket's second request is cut when `cutReused` is set. */
const perSocket = new Map<Socket, number>();
let cutReused = false;
/** Every request is cut (the receiver dies on each one). */
let cutAll = false;
/** Every answer is cut after its status line and the first bytes of its body. */
let cutAfterHead = false;
/** Requests the receiver cut off without an answer, or in the middle of one. */
let cuts = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    req.resume();
    req.on('end', () => {
      // As a receiver whose idle timeout closed the socket just as the next request was sent.
      if ((cutReused && n > 1) || cutAll) {
        cuts += 1;
        req.socket.destroy();
      } else if (cutAfterHead) {
        cuts += 1;
        res.writeHead(200, { 'content-length': '50' });
        res.write('0123456789', () => req.socket.destroy());
      } else res.writeHead(204).end();
    });
  });
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  await closeConnectionPools();
  sockets.clear();
  perSocket.clear();
  cutReused = false;
  cutAll = false;
  cutAfterHead = false;
  cuts = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const post = (lookup: LookupAll, oversize: 'truncate' | 'fail' = 'truncate') =>
  guardedFetch({
    url: `http://hooks.example.test:${port}/in`,
    method: 'POST',
    body: '{}',
    allowPrivate: true,
    lookup,
    timeoutMs: 2_000,
    maxResponseBytes: 100,
    oversize,
  });

const resolvesTo =
  (address: string): LookupAll =>
  async () => [{ address, family: 4 }];

describe('pooled connections per pinned address', () => {
  it('reuses pooled connections for requests checked to the same address', async () => {
    for (let i = 0; i < 10; i++) expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    // A request sent in the same tick as the previous answer ended may open a second connection
    // (the pool learns that the first is idle a microtask later); never one per request.
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('never sends over a pooled socket when the check resolved the name elsewhere (rebinding)', async () => {
    expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    // An idle socket to 127.0.0.1 is pooled; the name now resolves to 127.0.0.2, where nothing listens.
    await expect(post(resolvesTo('127.0.0.2'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    expect(sockets.size).toBe(1);
  });

  it('sends again on a fresh connection when a reused socket was closed by the receiver', async () => {
    for (let i = 0; i < 2; i++) expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    const opened = sockets.size;
    cutReused = true;
    // Every pooled socket has answered a request by now, so this one goes out on a reused socket.
    expect((await post(resolvesTo('127.0.0.1'))).status).toBe(204);
    expect(cuts).toBe(1);
    expect(sockets.size).toBe(opened + 1);
  });

  it('does not send again when a fresh connection was closed before the answer', async () => {
    cutAll = true;
    await expect(post(resolvesTo('127.0.0.1'))).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(cuts).toBe(1);
  });

  it('does not send again when an answer is cut after its status line; an excerpt keeps what came', async () => {
    cutAfterHead = true;
    await expect(post(resolvesTo('127.0.0.1'), 'fail')).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(cuts).toBe(1);
    const excerpt = await post(resolvesTo('127.0.0.1'), 'truncate');
    expect(excerpt.status).toBe(200);
    expect(excerpt.body.toString()).toBe('0123456789');
    expect(cuts).toBe(2);
  });
});
