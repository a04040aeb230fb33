import type { DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger } from './create-logger.js';

const API_KEY = 'sk_live_9f8e7d6c5b4a';
const GEMINI_KEY = 'AIzaSyD-1234567890abcdefghijklmnop';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PNG_B64 = `iVBORw0KGgoAAAANSUhEUgAA${'AAAAQUJD'.repeat(400)}`;

function capture(): { destination: DestinationStream; text(): string; lines(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  return {
    destination: { write: (chunk: string) => void chunks.push(chunk) },
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('never prints keys, Authorization headers, webhook secrets or base64 images', () => {
    const out = capture();
    const log = createLogger({ name: 'test', destination: out.destination });

    log.info(
      {
        req: { headers: { authorization: `Bearer ${API_KEY}`, 'x-goog-api-key': GEMINI_KEY } },
        provider: { apiKey: GEMINI_KEY, api_key: API_KEY },
        webhook: { url: 'https://example.com/hook', secret: WHSEC },
        deep: { a: { b: { c: { password: 'hunter2', webhook_secret: WHSEC } } } },
        response: { data: [{ b64_json: PNG_B64 }] },
        image: `data:image/png;base64,${PNG_B64}`,
        bytes: Buffer.from(PNG_B64),
      },
      'calling provider',
    );
    log.warn(`retrying with Authorization: Bearer ${API_KEY} and ${WHSEC}`);
    log.error(new Error(`upstream said: invalid key ${GEMINI_KEY}, body ${PNG_B64}`));
    log.info('sent %s to %o', WHSEC, { headers: { authorization: `Bearer ${API_KEY}` } });

    const text = out.text();
    for (const secret of [API_KEY, GEMINI_KEY, WHSEC, 'hunter2', 'iVBORw0KGgo', 'AAAAQUJD']) {
      expect(text).not.toContain(secret);
    }
    const [first, warn, error] = out.lines();
    expect(first?.req).toEqual({ headers: { authorization: '[Redacted]', 'x-goog-api-key': '[Redacted]' } });
    expect(first?.response).toEqual({ data: [{ b64_json: `[image bytes: ${PNG_B64.length} chars]` }] });
    expect(first?.image).toBe(`[image bytes: ${PNG_B64.length + 22} chars]`);
    expect(first?.bytes).toBe(`[binary: ${PNG_B64.length} bytes]`);
    expect(warn?.msg).toBe('retrying with Authorization: Bearer [redacted] and whsec_[redacted]');
    expect(error?.msg).toMatch(
      /^upstream said: invalid key AIza\[redacted\], body \[image bytes: \d+ chars\]$/,
    );
    expect(error?.err).toMatchObject({ type: 'Error', message: expect.stringContaining('AIza[redacted]') });
  });

  it('keeps S3 object keys and ordinary fields', () => {
    const out = capture();
    createLogger({ name: 'test', destination: out.destination }).info(
      { key: 'catalog/fall/batch_1/sku-1/0.png', bytes: 123, sha256: 'ab'.repeat(32), max_tokens: 5 },
      'uploaded',
    );
    expect(out.lines()[0]).toMatchObject({
      name: 'test',
      msg: 'uploaded',
      key: 'catalog/fall/batch_1/sku-1/0.png',
      bytes: 123,
      sha256: 'ab'.repeat(32),
      max_tokens: 5,
    });
  });

  it('carries child bindings such as batch_id and item_id, scrubbed too', () => {
    const out = capture();
    const log = createLogger({ name: 'worker', destination: out.destination });
    const child = log.child({ batch_id: 'batch_1', token: 'tok_secret' }).child({ item_id: 'item_1' });
    child.info({ attempt: 2 }, 'generating');

    expect(out.text()).not.toContain('tok_secret');
    expect(out.lines()[0]).toMatchObject({
      name: 'worker',
      batch_id: 'batch_1',
      item_id: 'item_1',
      attempt: 2,
      msg: 'generating',
    });
  });

  it('serialises errors with their cause and fields, and handles cycles', () => {
    const out = capture();
    const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const err = new Error('delivery failed', { cause });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    createLogger({ name: 'test', destination: out.destination }).warn({ err, cyclic }, 'webhook');

    const [line] = out.lines();
    expect(line?.err).toMatchObject({ type: 'Error', message: 'delivery failed: socket hang up' });
    expect(line?.cyclic).toEqual({ name: 'loop', self: '[Circular]' });
  });

  it('does not mutate the logged object', () => {
    const out = capture();
    const obj = { headers: { authorization: `Bearer ${API_KEY}` } };
    createLogger({ name: 'test', destination: out.destination }).info(obj, 'x');
    expect(obj.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('honours the level', () => {
    const out = capture();
    const log = createLogger({ name: 'test', level: 'warn', destination: out.destination });
    log.info('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown']);
  });
});
