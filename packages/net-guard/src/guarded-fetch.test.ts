import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchTimeoutError, guardedFetch } from './guarded-fetch.js';
import { ResponseTooLargeError } from './pinned-request.js';
import type { LookupAll } from './ssrf.js';

let server: Server;
let port: number;
const paths: string[] = [];
/** The Authorization header of each request, in order. */
const authorizations: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    paths.push(req.url ?? '');
    authorizations.push(req.headers.authorization);
    if (req.url === '/big') res.end('y'.repeat(10_000));
    else if (req.url === '/stall') {
      res.writeHead(200);
      res.write('partial');
    } else if (req.url === '/moved') res.writeHead(301, { location: '/target' }).end();
    else res.end('hello');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const base = { allowPrivate: true, timeoutMs: 2_000, maxResponseBytes: 100 } as const;

describe('guardedFetch', () => {
  it('resolves the name once and connects to the checked address', async () => {
    let lookups = 0;
    // Not in real DNS: reaching the server proves the checked answer was used for the connection.
    const lookup: LookupAll = async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const res = await guardedFetch({
      ...base,
      url: `http://refs.pixelmill.invalid:${port}/x`,
      lookup,
      oversize: 'fail',
    });
    expect(res.body.toString()).toBe('hello');
    expect(lookups).toBe(1);
  });

  it('returns a redirect without following it', async () => {
    const before = paths.length;
    const res = await guardedFetch({ ...base, url: `http://127.0.0.1:${port}/moved`, oversize: 'fail' });
    expect(res.status).toBe(301);
    expect(paths.slice(before)).toEqual(['/moved']);
  });

  it('truncates or fails a body past the cap', async () => {
    const url = `http://127.0.0.1:${port}/big`;
    const cut = await guardedFetch({ ...base, url, oversize: 'truncate' });
    expect(cut.body.toString()).toBe('y'.repeat(100));
    await expect(guardedFetch({ ...base, url, oversize: 'fail' })).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
  });

  it('a body still arriving at the deadline ends it (truncate) or fails it (fail)', async () => {
    const url = `http://127.0.0.1:${port}/stall`;
    const cut = await guardedFetch({ ...base, url, timeoutMs: 200, oversize: 'truncate' });
    expect(cut.body.toString()).toBe('partial');
    await expect(guardedFetch({ ...base, url, timeoutMs: 200, oversize: 'fail' })).rejects.toBeInstanceOf(
      FetchTimeoutError,
    );
  });

  it('refuses a private address before connecting', async () => {
    const before = paths.length;
    await expect(
      guardedFetch({ ...base, allowPrivate: false, url: `http://127.0.0.1:${port}/`, oversize: 'fail' }),
    ).rejects.toMatchObject({ reason: 'blocked_address' });
    expect(paths.length).toBe(before);
  });

  it('sends credentials in the URL as HTTP Basic, decoded', async () => {
    const before = authorizations.length;
    const res = await guardedFetch({
      ...base,
      url: `http://us%40er:p%3Ass@127.0.0.1:${port}/x`,
      oversize: 'fail',
    });
    expect(res.status).toBe(200);
    expect(authorizations.slice(before)).toEqual([`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`]);
  });
});
