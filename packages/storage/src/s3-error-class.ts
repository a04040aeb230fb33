/**
 * @module Is a failed S3 call S3 being unwell (wait and retry: every upload suffers alike) or S3
 * refusing this one object (its key, size or content: retrying the same PUT can never succeed)?
 * Errors are read by shape, as in s3-errors.ts.
 */

/** `unwell`: the service, the network or our account setup is failing; `refused`: this object is. */
export type S3ErrorClass = 'unwell' | 'refused';

interface SdkErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Names S3 (and the SDK) give to trouble that is not about the object, whatever the HTTP status:
 * throttling, timeouts, and credentials, clock or bucket settings, which fail every upload alike
 * (failing each item for them would empty the queue over a configuration slip; waiting lets it be fixed).
 */
const UNWELL_NAMES = new Set([
  // Throttling and overload (429, 503).
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalError',
  // 400 RequestTimeout: S3 gave up waiting for our body; 409 OperationAborted: a conflicting operation.
  'RequestTimeout',
  'RequestTimeoutException',
  'OperationAborted',
  // A body cut short on the way (400 IncompleteBody).
  'IncompleteBody',
  // Client-side timeouts and aborts (the SDK's own, our PUT timeout).
  'TimeoutError',
  'AbortError',
  'NetworkingError',
  // Credentials, clock, region and bucket: the same for every key.
  'CredentialsProviderError',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidToken',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'RequestTimeTooSkewed',
  'AuthorizationHeaderMalformed',
  'AccountProblem',
  'NoSuchBucket',
  'PermanentRedirect',
]);

/** Statuses that say nothing against the object: timeout, conflict in progress, throttled. */
const UNWELL_STATUSES = new Set([404, 408, 409, 429]);

/**
 * Classifies an error of a PUT (or any object call).
 *
 * - `unwell`: no HTTP answer at all (ECONNREFUSED, ECONNRESET, ETIMEDOUT, socket hang up, our own
 *   timeout), any 5xx, 3xx (a bucket in another region), 404/408/409/429, and the names above.
 * - `refused`: every other 4xx, e.g. 400 KeyTooLongError, InvalidArgument, EntityTooLarge,
 *   InvalidRequest, MalformedXML, 411/412/413, and 403 AccessDenied: a bucket policy or an SCP may
 *   deny one prefix while the rest of the bucket stays writable, so a denied key fails only its item
 *   (credentials that are wrong for every key answer InvalidAccessKeyId or SignatureDoesNotMatch).
 *
 * Anything unrecognised without a status counts as `unwell`: retrying a refusal only costs time,
 * while failing items for an outage loses them.
 */
export function classifyS3Error(err: unknown): S3ErrorClass {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  if (
    (e.name !== undefined && UNWELL_NAMES.has(e.name)) ||
    (e.code !== undefined && UNWELL_NAMES.has(e.code))
  )
    return 'unwell';
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined || status < 400 || status >= 500 || UNWELL_STATUSES.has(status)) return 'unwell';
  return 'refused';
}
