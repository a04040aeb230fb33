/**
 * Downloads an image a provider returned as a URL (OpenAI `url` outputs, proxies' hosted markdown
 * links). Bounded in size, because the URL comes from a third party, and by the call's deadline.
 * @module
 */
import { ProviderError } from '@pixelmill/core';
import { imageFromBytes } from './image-data.js';
import type { GeneratedImage } from './types.js';

/** 40 MB: a 4K PNG is ~8–25 MB; anything larger is not an image we asked for. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024;

export interface DownloadOptions {
  fetch: typeof fetch;
  signal: AbortSignal;
  maxBytes: number;
}

/**
 * Fetches `url` and returns the validated image. Transport errors propagate (the adapter's catch maps
 * them with networkError); a bad status, an oversized or non-image body is a retryable provider_error:
 * the provider made an image we could not collect.
 */
export async function downloadImage(url: string, opts: DownloadOptions): Promise<GeneratedImage> {
  if (!/^https?:\/\//i.test(url)) throw downloadError(`unsupported image URL scheme: ${url.slice(0, 40)}`);
  const res = await opts.fetch(url, { signal: opts.signal, redirect: 'follow' });
  if (!res.ok) {
    await res.body?.cancel();
    throw downloadError(`image download answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > opts.maxBytes) {
    await res.body?.cancel();
    throw downloadError(`image download is ${declared} bytes, over the ${opts.maxBytes} byte cap`);
  }
  const bytes = await readCapped(res, opts.maxBytes);
  const image = imageFromBytes(bytes);
  if (image === undefined) throw downloadError('downloaded URL is not a PNG, JPEG, WebP or GIF image');
  return image;
}

async function readCapped(res: Response, maxBytes: number): Promise<Buffer> {
  if (res.body === null) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw downloadError(`image download exceeded the ${maxBytes} byte cap`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function downloadError(message: string): ProviderError {
  return new ProviderError({ code: 'provider_error', message, retryable: true, scope: 'item' });
}
