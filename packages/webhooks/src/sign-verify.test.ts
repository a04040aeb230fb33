import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret } from './secret.js';
import { signWebhook } from './sign.js';
import { verifyWebhook, WebhookVerificationError } from './verify.js';

const body = JSON.stringify({
  type: 'item.succeeded',
  timestamp: '2026-01-01T00:00:00Z',
  data: { id: 'item_1' },
});

describe('generateWebhookSecret', () => {
  it('makes whsec_ + base64 of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });
});

describe('signWebhook / verifyWebhook', () => {
  const secret = generateWebhookSecret();
  const timestamp = new Date();

  it('produces the Standard Webhooks headers standardwebhooks itself produces', () => {
    const headers = signWebhook({ secret, msgId: 'msg_1', timestamp, body });
    expect(headers).toEqual({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('msg_1', timestamp, body),
    });
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('agrees with standardwebhooks on non-ASCII bodies and on every secret of a rotation', () => {
    const previous = generateWebhookSecret();
    const text = JSON.stringify({ type: 'item.succeeded', data: { prompt: 'café ☕ 東京 🚀' } });
    const headers = signWebhook({ secret: [previous, secret], msgId: 'msg_u', timestamp, body: text });
    expect(headers['webhook-signature']).toBe(
      [previous, secret].map((s) => new Webhook(s).sign('msg_u', timestamp, text)).join(' '),
    );
  });

  it('verifies and parses a signed body', () => {
    const headers = signWebhook({ secret, msgId: 'msg_1', timestamp, body });
    expect(verifyWebhook({ secret, rawBody: body, headers })).toEqual(JSON.parse(body));
    expect(
      verifyWebhook({ secret, rawBody: Buffer.from(body), headers: new Headers({ ...headers }) }),
    ).toEqual(JSON.parse(body));
  });

  it('rejects a tampered or re-serialised body', () => {
    const headers = signWebhook({ secret, msgId: 'msg_1', timestamp, body });
    const tampered = body.replace('item_1', 'item_2');
    expect(() => verifyWebhook({ secret, rawBody: tampered, headers })).toThrow(WebhookVerificationError);
    const reserialised = JSON.stringify(JSON.parse(body), null, 2);
    expect(() => verifyWebhook({ secret, rawBody: reserialised, headers })).toThrow(
      'No matching signature found',
    );
  });

  it('rejects the wrong secret and stale timestamps', () => {
    const headers = signWebhook({ secret, msgId: 'msg_1', timestamp, body });
    expect(() => verifyWebhook({ secret: generateWebhookSecret(), rawBody: body, headers })).toThrow(
      WebhookVerificationError,
    );
    const old = signWebhook({ secret, msgId: 'msg_1', timestamp: new Date(Date.now() - 10 * 60_000), body });
    expect(() => verifyWebhook({ secret, rawBody: body, headers: old })).toThrow('Message timestamp too old');
  });

  it('signs with every secret during a rotation, so either verifies', () => {
    const previous = generateWebhookSecret();
    const headers = signWebhook({ secret: [previous, secret], msgId: 'msg_2', timestamp, body });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifyWebhook({ secret: previous, rawBody: body, headers })).toEqual(JSON.parse(body));
    expect(verifyWebhook({ secret, rawBody: body, headers })).toEqual(JSON.parse(body));
  });

  it('lets a receiver hold two secrets while it rotates', () => {
    const headers = signWebhook({ secret, msgId: 'msg_3', timestamp, body });
    expect(verifyWebhook({ secret: [generateWebhookSecret(), secret], rawBody: body, headers })).toEqual(
      JSON.parse(body),
    );
  });
});
