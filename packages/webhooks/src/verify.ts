/** @module Verifying a received delivery: the receiver side of {@link signWebhook}. */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export { WebhookVerificationError };

/** Header bags from Node (`IncomingHttpHeaders`), fetch (`Headers`) or a plain record. */
export type HeaderInput = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookInput {
  /** The receiver's secret; pass both during a rotation. */
  secret: string | readonly string[];
  /** The body exactly as received: re-serialised JSON no longer matches the signature. */
  rawBody: string | Buffer;
  headers: HeaderInput;
}

function toRecord(headers: HeaderInput): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      out[name] = value;
    });
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    // A repeated signature header is equivalent to one space-separated list.
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(' ') : value;
  }
  return out;
}

/**
 * Returns the parsed JSON payload, or throws {@link WebhookVerificationError} (bad signature,
 * missing headers, or a timestamp more than 5 minutes off).
 */
export function verifyWebhook<T = unknown>({ secret, rawBody, headers }: VerifyWebhookInput): T {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new Error('verifyWebhook needs at least one secret');
  const record = toRecord(headers);
  let lastError: unknown;
  for (const s of secrets) {
    try {
      return new Webhook(s).verify(rawBody, record) as T;
    } catch (err) {
      // Only a signature mismatch is worth trying the next secret for.
      if (!(err instanceof WebhookVerificationError) || err.message !== 'No matching signature found')
        throw err;
      lastError = err;
    }
  }
  throw lastError;
}
