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
