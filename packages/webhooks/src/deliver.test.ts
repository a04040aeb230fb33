import type { LookupAll } from '@pixelmill/net-guard';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliverWebhook } from './deliver.js';
import { generateWebhookSecret } from './secret.js';
import { signWebhook } from './sign.js';
import { type Handler, type Receiver, startReceiver } from './test-support/receiver.js';

const body = JSON.stringify({
  type: 'batch.completed',
  timestamp: '2026-01-01T00:00:00Z',
  data: { id: 'batch_1' },
});

/** A receiver that checks signatures with standardwebhooks itself: 204 when valid, 401 otherwise. */
function verifying(secret: string): Handler {
  const wh = new Webhook(secret);
  return (req, res) => {
    try {
      wh.verify(req.rawBody, req.headers as Record<string, string>);
      res.statusCode = 204;
      res.end();
    } catch (err) {
      res.statusCode = 401;
      res.end((err as Error).message);
    }
  };
}

function signed(secret: string | string[], payload = body): Record<string, string> {
  return signWebhook({ secret, msgId: 'msg_1', timestamp: new Date(), body: payload });
}

describe('deliverWebhook against a real receiver', () => {
  let receiver: Receiver;
  const secret = generateWebhookSecret();

  beforeEach(async () => {
    receiver = await startReceiver(verifying(secret));
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('delivers a signed body the receiver verifies', async () => {
    const result = await deliverWebhook({
      url: `${receiver.url}/hooks`,
      headers: signed(secret),
      body,
      allowPrivate: true,
    });
    expect(result).toMatchObject({ ok: true, status: 204, responseExcerpt: '' });
    expect(result.error).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const [req] = receiver.received;
    expect(req).toMatchObject({ method: 'POST', path: '/hooks', rawBody: body });
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['webhook-id']).toBe('msg_1');
  });

  it('is rejected by the receiver when the body was tampered with', async () => {
    const result = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body: body.replace('batch_1', 'batch_2'),
      allowPrivate: true,
    });
    expect(result).toMatchObject({ ok: false, status: 401, responseExcerpt: 'No matching signature found' });
  });

  it('is accepted with either secret during a rotation', async () => {
    const next = generateWebhookSecret();
    const headers = signed([secret, next]);
    expect((await deliverWebhook({ url: receiver.url, headers, body, allowPrivate: true })).ok).toBe(true);
    receiver.setHandler(verifying(next));
    expect((await deliverWebhook({ url: receiver.url, headers, body, allowPrivate: true })).ok).toBe(true);
    receiver.setHandler(verifying(generateWebhookSecret()));
    expect((await deliverWebhook({ url: receiver.url, headers, body, allowPrivate: true })).status).toBe(401);
  });

  it('reports a 500 as a failed attempt with the response text', async () => {
    receiver.setHandler((_req, res) => {
      res.statusCode = 500;
      res.end('database down');
    });
    const result = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body,
      allowPrivate: true,
    });
    expect(result).toMatchObject({ ok: false, status: 500, responseExcerpt: 'database down' });
    expect(result.retryAfterMs).toBeUndefined();
  });

  it('reports a receiver that asks for no more attempts (webhook-delivery: abort-message)', async () => {
    receiver.setHandler((_req, res) => {
      res.statusCode = 422;
      res.setHeader('webhook-delivery', 'abort-message');
      res.end();
    });
    const result = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body,
      allowPrivate: true,
    });
    expect(result).toMatchObject({ ok: false, status: 422, abort: true });
  });

  it('reads Retry-After seconds on 429', async () => {
    receiver.setHandler((_req, res) => {
      res.writeHead(429, { 'retry-after': '7' }).end('slow down');
    });
    const result = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body,
      allowPrivate: true,
    });
    expect(result).toMatchObject({ ok: false, status: 429, retryAfterMs: 7_000 });
  });

  it('reads a Retry-After date on 503', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    receiver.setHandler((_req, res) => {
      res.writeHead(503, { 'retry-after': at }).end();
    });
    const result = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body,
      allowPrivate: true,
    });
    expect(result.status).toBe(503);
    expect(result.retryAfterMs).toBeGreaterThan(110_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('gives up on a receiver that never answers', async () => {
    receiver.setHandler(() => {});
    const result = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body,
      allowPrivate: true,
      timeoutMs: 300,
    });
    expect(result).toMatchObject({ ok: false, status: null, error: 'timeout', responseExcerpt: '' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.latencyMs).toBeLessThan(5_000);
  });

  it('does not follow redirects', async () => {
    receiver.setHandler((req, res) => {
      if (req.path === '/moved') res.writeHead(302, { location: `${receiver.url}/target` }).end();
      else res.end('should never be reached');
    });
    const result = await deliverWebhook({
      url: `${receiver.url}/moved`,
      headers: signed(secret),
      body,
      allowPrivate: true,
    });
    expect(result).toMatchObject({ ok: false, status: 302, error: 'redirect (302) not followed' });
    expect(receiver.received.map((r) => r.path)).toEqual(['/moved']);
  });

  it('caps the response excerpt', async () => {
    receiver.setHandler((_req, res) => {
      res.statusCode = 400;
      res.end('x'.repeat(100_000));
    });
    const result = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body,
      allowPrivate: true,
    });
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(result.responseExcerpt).toBe('x'.repeat(4096));
    const small = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body,
      allowPrivate: true,
      maxResponseBytes: 10,
    });
    expect(small.responseExcerpt).toBe('xxxxxxxxxx');
  });

  it('keeps a 2xx whose body never ends a success', async () => {
    receiver.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('accepted');
    });
    const result = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body,
      allowPrivate: true,
      timeoutMs: 300,
    });
    expect(result).toMatchObject({ ok: true, status: 200, responseExcerpt: 'accepted' });
  });

  it('refuses private receivers before sending anything unless allowed', async () => {
    const result = await deliverWebhook({
      url: receiver.url,
      headers: signed(secret),
      body,
      allowPrivate: false,
    });
    expect(result).toMatchObject({ ok: false, status: null });
    expect(result.error).toContain('127.0.0.1 (loopback)');
    expect(receiver.received).toHaveLength(0);
  });

  it('connects to the address it checked, not to a fresh DNS answer', async () => {
    // The name does not exist in real DNS: reaching the receiver proves the pinned address was used.
    const lookup: LookupAll = async () => [{ address: '127.0.0.1', family: 4 }];
    const result = await deliverWebhook({
      url: `http://hooks.pixelmill.invalid:${receiver.port}/hooks`,
      headers: signed(secret),
      body,
      allowPrivate: true,
      lookup,
    });
    expect(result).toMatchObject({ ok: true, status: 204 });
    expect(receiver.received[0]?.headers.host).toBe(`hooks.pixelmill.invalid:${receiver.port}`);
  });
});

describe('deliverWebhook network failures', () => {
  it('returns connection refused as a result instead of throwing', async () => {
    const receiver = await startReceiver();
    const url = receiver.url;
    await receiver.close();
    const result = await deliverWebhook({ url, headers: {}, body, allowPrivate: true });
    expect(result).toMatchObject({ ok: false, status: null, responseExcerpt: '' });
    expect(result.error).toContain('ECONNREFUSED');
  });

  it('returns unresolvable and malformed URLs as results', async () => {
    const nxdomain: LookupAll = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const a = await deliverWebhook({
      url: 'https://nope.invalid/',
      headers: {},
      body,
      allowPrivate: false,
      lookup: nxdomain,
    });
    expect(a).toMatchObject({ ok: false, status: null, error: expect.stringContaining('ENOTFOUND') });
    const b = await deliverWebhook({ url: 'file:///etc/passwd', headers: {}, body, allowPrivate: true });
    expect(b).toMatchObject({ ok: false, status: null, error: expect.stringContaining('file:') });
  });

  it('counts a hanging DNS lookup against the timeout', async () => {
    const hanging: LookupAll = () => new Promise(() => {});
    const result = await deliverWebhook({
      url: 'https://slow-dns.example/',
      headers: {},
      body,
      allowPrivate: false,
      lookup: hanging,
      timeoutMs: 200,
    });
    expect(result).toMatchObject({ ok: false, status: null, error: 'timeout' });
  });
});
