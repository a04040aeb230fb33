/** @module Reading AWS SDK v3 errors by shape, so two copies of the SDK in the tree still match. */

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function isNotFound(err: unknown): boolean {
  const e = err as SdkErrorShape | null;
  // HeadObject/HeadBucket have no body, so the SDK can only report `NotFound` with a 404.
  return (
    e?.$metadata?.httpStatusCode === 404 ||
    e?.name === 'NotFound' ||
    e?.name === 'NoSuchKey' ||
    e?.name === 'NoSuchBucket'
  );
}

/** A one-line reason: Node network errors sometimes carry only a `code` (e.g. AggregateError). */
export function describeError(err: unknown): string {
  const e = err as SdkErrorShape | null;
  const parts = [e?.name, e?.code, e?.message].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length > 0 ? [...new Set(parts)].join(': ') : String(err);
}
