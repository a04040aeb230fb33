import { isProviderError, type ProviderError } from '@pixelmill/core';

/** Awaits a promise that must reject with a ProviderError, and returns that error. */
export async function providerFailure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isProviderError(err)) throw new Error(`expected a ProviderError, got ${String(err)}`);
  return err;
}
