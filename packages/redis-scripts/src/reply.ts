/** @module Decoding of Lua replies: integers arrive as numbers, strings as strings, nil as null. */

export function replyArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new TypeError(`unexpected Lua reply: ${String(reply)}`);
  return reply;
}

export function replyNumber(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new TypeError(`expected a number: ${String(value)}`);
  return n;
}

export function replyNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : replyNumber(value);
}

export function replyString(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`expected a string: ${String(value)}`);
  return value;
}
