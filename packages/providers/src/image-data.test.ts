import { describe, expect, it } from 'vitest';
import { decodeBase64Image, decodeDataUrl, markdownImageUrls } from './image-data.js';
import { sniffImageMime } from './reference-images.js';
import { JPEG_HEAD, PNG_1X1, PNG_1X1_BASE64 } from './test-support/fixtures.js';

describe('sniffImageMime', () => {
  it('recognises PNG, JPEG, WebP and GIF by magic bytes', () => {
    expect(sniffImageMime(PNG_1X1)).toBe('image/png');
    expect(sniffImageMime(JPEG_HEAD)).toBe('image/jpeg');
    expect(sniffImageMime(Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'))).toBe('image/webp');
    expect(sniffImageMime(Buffer.from('GIF89a', 'latin1'))).toBe('image/gif');
    expect(sniffImageMime(Buffer.from('<html>', 'latin1'))).toBeUndefined();
    expect(sniffImageMime(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('image payloads', () => {
  it('decodes base64 (standard, URL-safe, wrapped) and sniffs the type', () => {
    expect(decodeBase64Image(PNG_1X1_BASE64)).toMatchObject({ mimeType: 'image/png' });
    const urlSafe = PNG_1X1.toString('base64url');
    expect(decodeBase64Image(urlSafe)?.bytes.equals(PNG_1X1)).toBe(true);
    expect(decodeBase64Image(PNG_1X1_BASE64.replace(/(.{20})/g, '$1\n'))).toBeDefined();
  });

  it('rejects malformed base64 and non-images', () => {
    expect(decodeBase64Image('not base64!!')).toBeUndefined();
    expect(decodeBase64Image(Buffer.from('hello world').toString('base64'))).toBeUndefined();
    expect(decodeBase64Image('')).toBeUndefined();
  });

  it('ignores a data URL’s declared type in favour of the bytes', () => {
    const image = decodeDataUrl(`data:image/png;base64,${JPEG_HEAD.toString('base64')}`);
    expect(image?.mimeType).toBe('image/jpeg');
    expect(decodeDataUrl('https://example.com/a.png')).toBeUndefined();
  });

  it('finds markdown images, data URLs and http URLs apart', () => {
    const text = `Here:\n![image](data:image/png;base64,${PNG_1X1_BASE64})\nand ![b](https://cdn.example.com/x.png)`;
    const { dataUrls, httpUrls } = markdownImageUrls(text);
    expect(dataUrls).toEqual([`data:image/png;base64,${PNG_1X1_BASE64}`]);
    expect(httpUrls).toEqual(['https://cdn.example.com/x.png']);
  });
});
