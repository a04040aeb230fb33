/**
 * @module Deep, copying scrub of a logged object: secret-named fields at any depth, secrets and
 * image payloads inside strings, binary buffers, and errors (serialised first so their message and
 * stack are scrubbed too). The caller's object is never mutated.
 */
import { stdSerializers } from 'pino';
import { scrubString } from './scrub-string.js';
import { isSecretKey, REDACTED } from './secret-keys.js';

/** Deeper than any log object we write; stops pathological inputs from costing more. */
const MAX_DEPTH = 12;

function isPlainRecord(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (typeof value !== 'object' || value === null) return value;
  // Image bytes as a Buffer would otherwise print as a JSON array of every byte.
  if (value instanceof Uint8Array) return `[binary: ${value.byteLength} bytes]`;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (value instanceof Error) return scrub({ ...stdSerializers.err(value) }, depth, seen);
    if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, seen));
    // Dates, URLs and other toJSON objects carry no nested secrets worth a walk.
    if (!isPlainRecord(value) && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      return value;
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] =
        isSecretKey(key) && item !== undefined && item !== null ? REDACTED : scrub(item, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export function scrubValue<T>(value: T): T {
  return scrub(value, 0, new WeakSet()) as T;
}
