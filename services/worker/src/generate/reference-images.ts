import { isUnderRoot, objectKeyProblems, ProviderError } from '@pixelmill/core';
import {
  FetchTimeoutError,
  guardedFetch,
  type LookupAll,
  ResponseTooLargeError,
  UnsafeUrlError,
} from '@pixelmill/net-guard';
import { type ReferenceImage, sniffImageMime } from '@pixelmill/providers';
import { isNotFound, type ObjectStore } from '@pixelmill/storage';

const MAX_REFERENCE_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

export interface ReferenceOptions {
  /** PIXELMILL_WEBHOOK_ALLOW_PRIVATE: the SSRF guard's address check off (demo and tests). */
  allowPrivate: boolean;
  /** The tenant's root (`tenantRoot(tenant_id)`): the only part of the bucket its keys may name. */
  root: string;
  lookup?: LookupAll;
}

function refError(message: string, retryable: boolean): ProviderError {
  return new ProviderError({ code: 'reference_image_error', message, retryable, scope: 'item' });
}

/**
 * The one answer for a key that is missing, outside the tenant's root or not a usable key: it must
 * not tell another tenant whether an object exists there.
 */
function notFound(ref: string): ProviderError {
  return refError(`Reference image ${ref} was not found in this tenant's objects`, false);
}

/**
 * Reference images are http(s) URLs, fetched through the webhooks' guarded fetch (SSRF guard at
 * fetch time, connection pinned to the checked address, no redirects, 20 MB cap, 30 s), or full
 * bucket keys under the tenant's root; a key outside it is never read.
 */
export async function loadReferenceImages(
  refs: string[],
  objects: ObjectStore,
  opts: ReferenceOptions,
): Promise<ReferenceImage[]> {
  return Promise.all(refs.map((ref) => loadOne(ref, objects, opts)));
}

async function loadOne(ref: string, objects: ObjectStore, opts: ReferenceOptions): Promise<ReferenceImage> {
  const bytes = /^https?:\/\//i.test(ref)
    ? await fetchUrl(ref, opts)
    : await readKey(ref, objects, opts.root);
  const mimeType = sniffImageMime(bytes);
  if (mimeType === undefined) throw refError(`Reference image ${ref} is not a PNG, JPEG, WebP or GIF`, false);
  return { bytes, mimeType };
}

async function readKey(key: string, objects: ObjectStore, root: string): Promise<Buffer> {
  if (!isUnderRoot(key, root) || objectKeyProblems(key).length > 0) throw notFound(key);
  try {
    return await objects.get(key);
  } catch (err) {
    if (isNotFound(err)) throw notFound(key);
    throw refError(
      `Reference image ${key} could not be read from the bucket: ${(err as Error).message}`,
      true,
    );
  }
}

async function fetchUrl(ref: string, opts: ReferenceOptions): Promise<Buffer> {
  let res: Awaited<ReturnType<typeof guardedFetch>>;
  try {
    res = await guardedFetch({
      url: ref,
      method: 'GET',
      allowPrivate: opts.allowPrivate,
      ...(opts.lookup === undefined ? {} : { lookup: opts.lookup }),
      timeoutMs: FETCH_TIMEOUT_MS,
      maxResponseBytes: MAX_REFERENCE_BYTES,
      oversize: 'fail',
    });
  } catch (err) {
    if (err instanceof UnsafeUrlError) {
      throw refError(`Reference image ${ref} refused: ${err.message}`, false);
    }
    if (err instanceof ResponseTooLargeError) {
      throw refError(`Reference image ${ref} is larger than ${MAX_REFERENCE_BYTES} bytes`, false);
    }
    const reason = err instanceof FetchTimeoutError ? 'timed out' : (err as Error).message;
    throw refError(`Reference image ${ref} could not be fetched: ${reason}`, true);
  }
  if (res.status >= 300 && res.status < 400) {
    // A redirect could lead anywhere, including past the guard.
    throw refError(
      `Reference image ${ref} answered a redirect (${res.status}), which is not followed`,
      false,
    );
  }
  if (res.status < 200 || res.status >= 300) {
    throw refError(`Reference image ${ref} answered HTTP ${res.status}`, res.status >= 500);
  }
  return res.body;
}
