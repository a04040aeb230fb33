/**
 * Turning provider image payloads (base64, data URLs, markdown) into validated bytes. An image is
 * accepted only if its base64 is well formed and its bytes sniff as PNG, JPEG, WebP or GIF; the
 * declared MIME type is ignored because proxies mislabel it.
 * @module
 */
import { sniffImageMime } from './reference-images.js';
import type { GeneratedImage } from './types.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes standard or URL-safe base64 (whitespace allowed); undefined when malformed or not an image. */
export function decodeBase64Image(data: string): GeneratedImage | undefined {
  const compact = data.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (compact.length === 0 || compact.length % 4 === 1 || !BASE64.test(compact)) return undefined;
  return imageFromBytes(Buffer.from(compact, 'base64'));
}

/** Validates raw bytes (e.g. a downloaded URL) the same way. */
export function imageFromBytes(bytes: Buffer): GeneratedImage | undefined {
  const mimeType = sniffImageMime(bytes);
  return mimeType === undefined ? undefined : { bytes, mimeType };
}

/** `data:image/png;base64,....` → decoded image; undefined for anything else. */
export function decodeDataUrl(url: string): GeneratedImage | undefined {
  const match = /^data:[^,;]*(?:;[^,;]*)*;base64,(.*)$/s.exec(url.trim());
  return match?.[1] === undefined ? undefined : decodeBase64Image(match[1]);
}

// new-api style proxies put images in markdown: ![alt](data:image/png;base64,...) or ![alt](https://...).
const MARKDOWN_DATA_URL = /!\[[^\]]*\]\((data:image\/[^;)]+;base64,[A-Za-z0-9+/=_\s-]+)\)/g;
const MARKDOWN_HTTP_URL = /!\[[^\]]*\]\((https?:\/\/[^\s)]+)\)/g;

/** Markdown image links in a text, data URLs first (no download needed), then http(s) URLs. */
export function markdownImageUrls(text: string): { dataUrls: string[]; httpUrls: string[] } {
  return {
    dataUrls: [...text.matchAll(MARKDOWN_DATA_URL)].map((m) => m[1] ?? ''),
    httpUrls: [...text.matchAll(MARKDOWN_HTTP_URL)].map((m) => m[1] ?? ''),
  };
}
