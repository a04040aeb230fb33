import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { scrubString } from './scrub-string.js';

const PNG_B64 = `iVBORw0KGgoAAAANSUhEUgAA${'QUJDRA'.repeat(100)}==`;

describe('scrubString', () => {
  it('replaces a data URI with its size', () => {
    const uri = `data:image/png;base64,${PNG_B64}`;
    expect(scrubString(uri)).toBe(`[image bytes: ${uri.length} chars]`);
  });

  it('replaces base64 runs inside a larger text and keeps the context', () => {
    const body = `{"data":[{"b64_json":"${PNG_B64}"}]}`;
    expect(scrubString(body)).toBe(`{"data":[{"b64_json":"[image bytes: ${PNG_B64.length} chars]"}]}`);
  });

  it('leaves short strings and ordinary long prose alone', () => {
    expect(scrubString('catalog/fall/batch_1/sku-1001-front/0.png')).toBe(
      'catalog/fall/batch_1/sku-1001-front/0.png',
    );
    const prompt = 'Studio product shot of a red sneaker on white, soft shadow. '.repeat(10);
    expect(scrubString(prompt)).toBe(prompt);
  });

  it('masks bearer tokens, webhook secrets and API keys in text', () => {
    const text =
      'Authorization: Bearer sk_live_abc.def-123 secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw= key AIzaSyA1234567890abcdefghijklmnopq';
    const out = scrubString(text);
    expect(out).toBe('Authorization: Bearer [redacted] secret whsec_[redacted] key AIza[redacted]');
    expect(scrubString('api key sk-proj-abcdefgh1234')).toBe('api key sk-[redacted]');
  });

  it('does not mistake sku ids for keys', () => {
    expect(scrubString('sku-1001-front')).toBe('sku-1001-front');
  });
});

describe('scrubString tells long keys from image data', () => {
  /** A real PNG (RGB, deflated noise): what a provider's b64_json holds. */
  const png = (side: number): Buffer => {
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
      const out = Buffer.alloc(body.length + 8);
      out.writeUInt32BE(data.length, 0);
      body.copy(out, 4);
      out.writeUInt32BE(crc32(body), body.length + 4);
      return out;
    };
    const header = Buffer.alloc(13);
    header.writeUInt32BE(side, 0);
    header.writeUInt32BE(side, 4);
    header.set([8, 2, 0, 0, 0], 8);
    const rows = Buffer.concat(
      Array.from({ length: side }, () => Buffer.concat([Buffer.from([0]), randomBytes(side * 3)])),
    );
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', header),
      chunk('IDAT', deflateSync(rows)),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  };

  it('keeps a long object key readable', () => {
    const key = Array.from({ length: 150 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('/');
    expect(key.length).toBeGreaterThanOrEqual(299);
    expect(scrubString(key)).toBe(key);
    const message = `Invalid object key "${key}": longer than 255 bytes`;
    expect(scrubString(message)).toBe(message);
    const flat = 'x'.repeat(1100);
    expect(scrubString(flat)).toBe(flat);
  });

  it('still redacts base64 image bytes, with or without a file signature', () => {
    for (const b64 of [
      `iVBORw0KGgoAAAANSUhEUgAA${'QUJDRA'.repeat(100)}`,
      `/9j/4AAQSkZJRgABAQ${'AAAAQUJD'.repeat(60)}`,
      `UklGRiQAAABXRUJQVlA4${'AAAAQUJD'.repeat(60)}`,
      png(16).toString('base64'),
      // An excerpt from inside an image (no signature), as base64 and base64url.
      png(16).toString('base64').slice(40),
      png(16).toString('base64url').slice(40),
    ]) {
      expect(scrubString(`body ${b64} end`), b64.slice(0, 12)).toBe(
        `body [image bytes: ${b64.length} chars] end`,
      );
    }
  });
});
