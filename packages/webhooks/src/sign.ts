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

export function signWebhook({ secret, msgId, timestamp, body }: SignWebhookInput): WebhookHeaders {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new Error('signWebhook needs at least one secret');
  const signatures = secrets.map((s) => new Webhook(s).sign(msgId, timestamp, body));
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
