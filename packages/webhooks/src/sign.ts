/** @module Signing outgoing deliveries (Standard Webhooks `v1`, HMAC-SHA256). */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

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

/** Webhook.prefix: a secret's base64 key follows it. */
const SECRET_PREFIX = 'whsec_';
/** HMAC keys by secret (each decoded once); bounded, the oldest dropped first. */
const keys = new Map<string, KeyObject>();
const MAX_KEYS = 1_000;

function keyFor(secret: string): KeyObject {
  let key = keys.get(secret);
  if (key === undefined) {
    const base64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length === 0) throw new Error('webhook secret has no key bytes');
    key = createSecretKey(bytes);
    keys.set(secret, key);
    if (keys.size > MAX_KEYS) keys.delete(keys.keys().next().value as string);
  }
  return key;
}

export function signWebhook({ secret, msgId, timestamp, body }: SignWebhookInput): WebhookHeaders {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new Error('signWebhook needs at least one secret');
  const seconds = String(Math.floor(timestamp.getTime() / 1000));
  // Standard Webhooks v1: base64 HMAC-SHA256 of `<id>.<timestamp>.<body>` (node:crypto: the
  // standardwebhooks package hashes in JavaScript, several times slower; sign-verify.test.ts checks
  // the two agree).
  const signed = `${msgId}.${seconds}.${body}`;
  const signatures = secrets.map(
    (s) => `v1,${createHmac('sha256', keyFor(s)).update(signed).digest('base64')}`,
  );
  return { 'webhook-id': msgId, 'webhook-timestamp': seconds, 'webhook-signature': signatures.join(' ') };
}
