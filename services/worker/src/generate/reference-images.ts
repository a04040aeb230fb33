import { ProviderError } from '@pixelmill/core';
import { type ReferenceImage, sniffImageMime } from '@pixelmill/providers';
import type { ObjectStore } from '@pixelmill/storage';
import { assertPublicUrl } from '@pixelmill/webhooks';

const MAX_REFERENCE_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

function refError(message: string, retryable: boolean): ProviderError {
  return new ProviderError({ code: 'reference_image_error', message, retryable, scope: 'item' });
}

/**
 * Reference images are URLs (fetched through the same SSRF guard as webhooks, with a size cap and a
 * timeout) or keys in the output bucket.
 */
export async function loadReferenceImages(
  refs: string[],
  objects: ObjectStore,
  opts: { allowPrivate: boolean },
): Promise<ReferenceImage[]> {
  return Promise.all(refs.map((ref) => loadOne(ref, objects, opts)));
}

async function loadOne(
  ref: string,
  objects: ObjectStore,
  opts: { allowPrivate: boolean },
): Promise<ReferenceImage> {
  let bytes: Buffer;
  if (/^https?:\/\//i.test(ref)) {
    try {
      await assertPublicUrl(ref, { allowPrivate: opts.allowPrivate });
    } catch (err) {
      throw refError(`Reference image ${ref} refused: ${(err as Error).message}`, false);
    }
    let res: Response;
    try {
      res = await fetch(ref, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (err) {
      throw refError(`Reference image ${ref} could not be fetched: ${(err as Error).message}`, true);
    }
    if (!res.ok) throw refError(`Reference image ${ref} answered HTTP ${res.status}`, res.status >= 500);
    bytes = await readCapped(res, MAX_REFERENCE_BYTES, ref);
  } else {
    try {
      bytes = await objects.get(ref);
    } catch (err) {
      throw refError(
        `Reference image key ${ref} could not be read from the bucket: ${(err as Error).message}`,
        false,
      );
    }
  }
  const mimeType = sniffImageMime(bytes);
  if (mimeType === undefined) throw refError(`Reference image ${ref} is not a PNG, JPEG, WebP or GIF`, false);
  return { bytes, mimeType };
}

async function readCapped(res: Response, cap: number, ref: string): Promise<Buffer> {
  const reader = res.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel();
      throw refError(`Reference image ${ref} is larger than ${cap} bytes`, false);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
