/** @module Webhook signing secrets in the Standard Webhooks format. */
import { randomBytes } from 'node:crypto';

/** `whsec_` + base64 of 32 random bytes (a 256-bit HMAC key, as Svix and OpenAI issue). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
