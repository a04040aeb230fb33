/** @module Errors for misuse; being rate limited is a normal result, not an error. */

/** tryAcquire/state on a resource nobody configured: acquiring without limits would be unsafe. */
export class ResourceNotConfiguredError extends Error {
  override readonly name = 'ResourceNotConfiguredError';
  constructor(readonly resourceId: string) {
    super(`rate limit resource "${resourceId}" is not configured; call limiter.configure() first`);
  }
}

/** A request for more images than ipm could ever grant: waiting would never help. */
export class ImagesExceedLimitError extends Error {
  override readonly name = 'ImagesExceedLimitError';
  constructor(
    readonly resourceId: string,
    readonly images: number,
    readonly ipm: number,
  ) {
    super(`${images} images requested on "${resourceId}" but its ipm is ${ipm}`);
  }
}
