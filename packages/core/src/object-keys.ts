/**
 * @module Whose part of the bucket a key is in. Every object a tenant's batches write or read lives
 * under that tenant's root, `<tenant>/` (api.md "Bucket layout"); keys are checked as S3 and every
 * local filesystem-backed S3 server can store them.
 */

/** The folder every object of one tenant lives under; tenant ids are `[A-Za-z0-9_-]+` (config). */
export function tenantRoot(tenantId: string): string {
  return `${tenantId}/`;
}

/** True when `key` is inside `root` (a root of '' holds every key: batches from before roots). */
export function isUnderRoot(key: string, root: string): boolean {
  return key.startsWith(root);
}

/** S3's limit for a whole key, in UTF-8 bytes. */
export const MAX_OBJECT_KEY_BYTES = 1024;
/** A segment becomes a file or folder name on filesystem-backed servers (NAME_MAX is 255 bytes). */
export const MAX_KEY_SEGMENT_BYTES = 255;
/** The characters a key may hold: S3's "safe characters" (no spaces, no `\`, `%`, `&`, `?`, `#`). */
const KEY_CHARS = /^[A-Za-z0-9!_.*'()/=+-]*$/;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Problems of a complete object key, as sentences (empty when the key is usable): S3's length limit,
 * a `/`-separated path of non-empty segments that are neither `.` nor `..` and fit a file name.
 */
export function objectKeyProblems(key: string): string[] {
  const problems: string[] = [];
  if (!KEY_CHARS.test(key)) problems.push("Keys may hold only letters, digits, / and !_.*'()=+-");
  if (bytes(key) > MAX_OBJECT_KEY_BYTES) {
    problems.push(`The key is ${bytes(key)} bytes; S3 allows ${MAX_OBJECT_KEY_BYTES}`);
  }
  const segments = key.split('/');
  if (segments.some((s) => s === ''))
    problems.push('The key has an empty segment (a leading, trailing or double /)');
  if (segments.some((s) => s === '.' || s === '..')) problems.push('The key has a . or .. segment');
  const long = segments.find((s) => bytes(s) > MAX_KEY_SEGMENT_BYTES);
  if (long !== undefined) {
    problems.push(`A key segment is ${bytes(long)} bytes; each may have at most ${MAX_KEY_SEGMENT_BYTES}`);
  }
  return problems;
}
