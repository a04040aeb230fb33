/** @module SHA-256 helpers: pixelmill identifies stored bytes by their hex SHA-256. */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** A pass-through that hashes and counts what flows through it, for uploads of unknown size. */
export function hashingTap(): { tap: Transform; result(): { bytes: number; sha256: string } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return { tap, result: () => ({ bytes, sha256: hash.digest('hex') }) };
}
