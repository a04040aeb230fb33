/**
 * @module Whose part of the bucket a key is in. Every object a tenant's batches write or read lives
 * under that tenant's root, `<tenant>/` (api.md "Bucket layout"); keys are checked as S3 and every
 * local filesystem-backed S3 server can store them.
 */
import type { OutputFormat } from './schemas/common.js';
import { DEFAULT_KEY_TEMPLATE, folderPrefix, renderKeyTemplate } from './schemas/key-template.js';

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

/** File extension of each output format (jpeg is written `.jpg`). */
export const extensionOf: Record<OutputFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

/** What the bucket key of an item's output is made of (`output.key_template`, api.md "Bucket layout"). */
export interface KeyParts {
  /** The tenant's root (`<tenant>/`), fixed at acceptance; '' on batches accepted before roots. */
  root: string;
  prefix: string;
  batchId: string;
  customId: string;
  format: OutputFormat;
  /** The batch's `output.key_template`; absent on batches from before templates: the default. */
  keyTemplate?: string | undefined;
  itemId?: string | undefined;
  model?: string | undefined;
  /** The item's version the key is for (versionKey); absent or 1: the first generation. */
  version?: number | undefined;
}

/** Where an output key is refused by `outputKeyFor`. */
export class ObjectKeyError extends Error {
  override readonly name = 'ObjectKeyError';
  constructor(
    readonly key: string,
    readonly problems: string[],
  ) {
    super(`Output key ${key.slice(0, 200)} is not usable: ${problems.join('; ')}`);
  }
}

/** The key of an output's WebP preview: `…/0.png` → `…/0.thumb.webp`, next to its original. */
export function thumbnailKey(outputKey: string): string {
  const slash = outputKey.lastIndexOf('/');
  const dot = outputKey.lastIndexOf('.');
  const stem = dot > slash ? outputKey.slice(0, dot) : outputKey;
  return `${stem}.thumb.webp`;
}

/**
 * The key of a later version of an output (api.md "Review and versions"): version 1 is the rendered key
 * itself; version N > 1 sits in `versions/<N>/` inside the same folder, under the same file name
 * (`…/sku-1/0.png` → `…/sku-1/versions/2/0.png`), its preview next to it. Every placeholder but
 * `{prefix}` is free of `/`, so no other item of the batch renders a key that deep in that folder.
 */
export function versionKey(key: string, version: number): string {
  if (version <= 1) return key;
  const slash = key.lastIndexOf('/');
  return `${key.slice(0, slash + 1)}versions/${version}/${key.slice(slash + 1)}`;
}

/** Problems of an output key together with its thumbnail's (the longer of the two). */
export function outputKeyProblems(key: string): string[] {
  const own = objectKeyProblems(key);
  return own.length > 0 ? own : objectKeyProblems(thumbnailKey(key));
}

/**
 * The bucket key of one output: the tenant's root, then the rendered template. Every key is rendered
 * here, by the API to check it at acceptance and by the worker to write it, and a key that leaves the
 * root or breaks the key rules is refused here too (ObjectKeyError), whatever was checked before.
 */
export function outputKeyFor(parts: KeyParts, index: number): string {
  const key =
    parts.root +
    renderKeyTemplate(parts.keyTemplate ?? DEFAULT_KEY_TEMPLATE, {
      prefix: parts.prefix,
      batch_id: parts.batchId,
      custom_id: parts.customId,
      item_id: parts.itemId ?? '',
      index,
      ext: extensionOf[parts.format],
      model: parts.model ?? '',
    });
  return checkedKey(versionKey(key, parts.version ?? 1));
}

function checkedKey(key: string): string {
  const problems = outputKeyProblems(key);
  if (problems.length > 0) throw new ObjectKeyError(key, problems);
  return key;
}

/** Files the batch itself writes when it ends, next to its outputs (api.md "Bucket layout"). */
export type BatchFile = 'manifest.jsonl' | 'results.csv';

/** `<root><prefix><batch id>/manifest.jsonl`: a non-empty prefix gets the `/` it needs. */
export function batchFileKey(
  where: { root: string; prefix: string; batchId: string },
  file: BatchFile,
): string {
  return `${where.root}${folderPrefix(where.prefix)}${where.batchId}/${file}`;
}
