import { createHash, randomBytes } from 'node:crypto';

/**
 * Ids are opaque strings with a type prefix (api.md). Batch ids sort by creation time, so a
 * tenant's batches can be listed newest-first from a lexicographic index without a second score.
 */
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out;
}

let lastMs = 0;
let seq = 0;

/** Time-ordered id: 48-bit ms timestamp + a per-process counter + 64 random bits. */
function timeOrderedId(): string {
  const now = Date.now();
  seq = now === lastMs ? seq + 1 : 0;
  lastMs = now;
  const head = Buffer.alloc(8);
  head.writeUIntBE(now, 0, 6);
  head.writeUInt16BE(seq & 0xffff, 6);
  return base32(head) + base32(randomBytes(8));
}

export const newBatchId = (): string => `batch_${timeOrderedId()}`;
export const newDeliveryId = (): string => `dlv_${timeOrderedId()}`;
export const newRequestId = (): string => `req_${timeOrderedId()}`;
export const newEndpointId = (): string => `whep_${timeOrderedId()}`;

/** Deterministic: the same batch and custom_id always give the same item id, so enqueueing is idempotent. */
export function itemIdFor(batchId: string, customId: string): string {
  return `item_${base32(createHash('sha256').update(`${batchId}\0${customId}`).digest().subarray(0, 15))}`;
}

/** Deterministic webhook message id: every retry of one event carries the same `webhook-id`. */
export function messageIdFor(eventType: string, subjectId: string): string {
  return `msg_${base32(createHash('sha256').update(`${eventType}\0${subjectId}`).digest().subarray(0, 15))}`;
}

/**
 * One delivery record per (message, target): the same event sent to the batch's webhook and to two
 * tenant endpoints is three deliveries sharing one `webhook-id`.
 */
export function deliveryIdFor(webhookId: string, targetId: string): string {
  return `dlv_${base32(createHash('sha256').update(`${webhookId}\0${targetId}`).digest().subarray(0, 15))}`;
}
