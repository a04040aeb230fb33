import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { verifyHonoRequest, verifyNodeRequest } from './receivers.js';
import { generateWebhookSecret } from './secret.js';
import { signWebhook } from './sign.js';

const secret = generateWebhookSecret();
const payload = { type: 'item.failed', timestamp: '2026-01-01T00:00:00Z', data: { id: 'item_9' } };
const body = JSON.stringify(payload);
const headers = (): Record<string, string> =>
  signWebhook({ secret, msgId: 'msg_9', timestamp: new Date(), body });

describe('verifyHonoRequest', () => {
  const app = new Hono().post('/hooks', async (c) => {
    try {
      return c.json({ received: await verifyHonoRequest(c, secret) });
    } catch {
      return c.text('bad signature', 401);
    }
  });

  it('accepts a signed request and returns the payload', async () => {
    const res = await app.request('/hooks', { method: 'POST', body, headers: headers() });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: payload });
  });

  it('rejects a tampered request', async () => {
    const res = await app.request('/hooks', { method: 'POST', body: `${body} `, headers: headers() });
    expect(res.status).toBe(401);
  });
});

describe('verifyNodeRequest', () => {
  async function serve(prepare?: (req: IncomingMessage & { body?: unknown }) => Promise<void>) {
    const server = createServer(async (req: IncomingMessage & { body?: unknown }, res) => {
      await prepare?.(req);
      try {
        res.end(JSON.stringify(await verifyNodeRequest(req, [generateWebhookSecret(), secret])));
      } catch (err) {
        res.statusCode = 401;
        res.end((err as Error).message);
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return { url, close: () => server.close() };
  }

  it('reads the raw body of a bare node:http request', async () => {
    const srv = await serve();
    try {
      const ok = await fetch(srv.url, { method: 'POST', body, headers: headers() });
      expect(await ok.json()).toEqual(payload);
      const bad = await fetch(srv.url, { method: 'POST', body: body.replace('9', '8'), headers: headers() });
      expect(bad.status).toBe(401);
    } finally {
      srv.close();
    }
  });

  it('uses req.body when express.raw() already read it', async () => {
    const srv = await serve(async (req) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      req.body = Buffer.concat(chunks);
    });
    try {
      const ok = await fetch(srv.url, { method: 'POST', body, headers: headers() });
      expect(await ok.json()).toEqual(payload);
    } finally {
      srv.close();
    }
  });
});
