/** @module Signing outgoing deliveries (Standard Webhooks `v1`, HMAC-SHA256). */
import { Webhook } from 'standardwebhooks';

// A type alias, not an interface, so it fits `Record<string, string>` header parameters.
export type WebhookHeaders = {
  'webhook-id': string;
  /** Unix seconds, as a string. */
  'webhook-timestamp': string;
  /** Space-separated `v1,<base64>` signatures, one per secret. */
  'webhook-signature': string;
};

export interface SignWebhookInput {
  /**
   * `whsec_…` secret; several during a rotation, so receivers holding either the old or the new
   * secret accept the delivery.
   */
  secret: string | readonly string[];
  /** Kept across retries of the same event so receivers can dedupe. */
  msgId: string;
  timestamp: Date;
  /** The exact bytes that will be sent: receivers verify the raw text. */
  body: string;
}

/** Signers by secret (each decodes its key once); bounded, the oldest dropped first. */
const signers = new Map<string, Webhook>();
const MAX_SIGNERS = 1_000;

function signerFor(secret: string): Webhook {
  let signer = signers.get(secret);
  if (signer === undefined) {
    signer = new Webhook(secret);
    signers.set(secret, signer);
    if (signers.size > MAX_SIGNERS) signers.delete(signers.keys().next().value as string);
  }
  return signer;
}

export function signWebhook({ secret, msgId, timestamp, body }: SignWebhookInput): WebhookHeaders {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new Error('signWebhook needs at least one secret');
  const signatures = secrets.map((s) => signerFor(s).sign(msgId, timestamp, body));
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
