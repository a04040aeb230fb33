/**
 * A key checked at no cost (ImageModel.checkKey) by one GET that needs the key: true when the
 * provider answered 2xx, the provider's refusal (its own classifier) when it refused the key, false
 * for anything else (a limit, an endpoint the provider lacks, a network error, no answer in time).
 * @module
 */
import { isKeyRefusal, type ProviderError } from '@pixelmill/core';
import { getJson } from './http.js';

export async function checkKeyByGet(
  fetchFn: typeof fetch,
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  classify: (status: number, body: unknown, headers: Headers) => ProviderError,
): Promise<boolean> {
  let res: Awaited<ReturnType<typeof getJson>>;
  try {
    res = await getJson(fetchFn, url, headers, AbortSignal.timeout(timeoutMs));
  } catch {
    return false;
  }
  if (res.status >= 200 && res.status < 300) return true;
  const error = classify(res.status, res.body, res.headers);
  if (isKeyRefusal(error)) throw error;
  return false;
}
