/**
 * @module The storage port: everything pixelmill needs from a bucket, so workers and the API
 * depend on this interface and tests can swap the backend.
 */
import type { Readable } from 'node:stream';

export interface PutResult {
  key: string;
  bytes: number;
  /** Lower-case hex SHA-256 of the stored bytes. */
  sha256: string;
}

export interface HeadResult {
  bytes: number;
  contentType: string;
  /** Present when the object was written by `put` (kept in `x-amz-meta-sha256`). */
  sha256?: string;
}

export interface ObjectStore {
  /** Stores a whole buffer; the SHA-256 is computed here and kept in the object's metadata. */
  put(key: string, body: Buffer, contentType: string): Promise<PutResult>;
  /**
   * Streams a large object (e.g. a batch manifest) in multipart chunks. The hash is computed
   * while streaming, so it is returned but not stored in metadata (it is unknown at upload start).
   */
  putStream(key: string, body: Readable, contentType: string): Promise<PutResult>;
  /** `null` when the object does not exist. */
  head(key: string): Promise<HeadResult | null>;
  get(key: string): Promise<Buffer>;
  /** A time-limited GET URL; `expiresInS` defaults to 3600 and is capped by SigV4 at 7 days. */
  presignGet(key: string, expiresInS?: number): Promise<string>;
  delete(key: string): Promise<void>;
  /** Creates the bucket when it does not exist yet. */
  ensureBucket(): Promise<void>;
  /** Throws when the bucket is unreachable; used by `/readyz`. */
  ping(): Promise<void>;
}
