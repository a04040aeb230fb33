/**
 * @module @pixelmill/net-guard: requests to customer-supplied URLs (webhook endpoints, reference
 * images) only to public unicast addresses, connected to exactly the addresses that were checked.
 */
export {
  FetchTimeoutError,
  type GuardedFetchInput,
  type GuardedResponse,
  guardedFetch,
} from './guarded-fetch.js';
export { type Oversize, ResponseTooLargeError } from './pinned-request.js';
export {
  type AssertPublicUrlOptions,
  addressRange,
  assertPublicUrl,
  type CheckedUrl,
  type LookupAll,
  type ResolvedAddress,
  UnsafeUrlError,
  type UnsafeUrlReason,
} from './ssrf.js';
