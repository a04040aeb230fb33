import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Context } from 'hono';
import { ApiError } from '../errors.js';

export const bodyTooLarge = (maxBytes: number): ApiError =>
  new ApiError(
    413,
    'payload_too_large',
    `The body is larger than ${maxBytes} bytes (PIXELMILL_MAX_BODY_BYTES)`,
    [{ path: '(body)', message: `Larger than ${maxBytes} bytes` }],
  );

/**
 * The request body as a Node stream that counts its bytes as they pass (413 the moment the limit is
 * crossed, never after buffering) and hashes them with the content type and query, for
 * Idempotency-Key's "same body" test.
 */
export class MeteredBody {
  readonly stream: Readable;
  private readonly hash: Hash;
  private bytes = 0;
  private consumed = false;

  constructor(c: Context, maxBytes: number) {
    const declared = Number(c.req.header('content-length') ?? 'NaN');
    if (Number.isFinite(declared) && declared > maxBytes) throw bodyTooLarge(maxBytes);
    this.hash = createHash('sha256').update(
      `${c.req.header('content-type') ?? ''}\n${new URL(c.req.url).search}\n`,
    );
    const raw = c.req.raw.body;
    const source = raw
      ? Readable.fromWeb(raw as unknown as WebReadableStream<Uint8Array>)
      : Readable.from([]);
    const meter = new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        this.bytes += chunk.length;
        if (this.bytes > maxBytes) {
          done(bodyTooLarge(maxBytes));
          return;
        }
        this.hash.update(chunk);
        done(null, chunk);
      },
    });
    source.on('error', (err) => meter.destroy(err));
    this.stream = source.pipe(meter);
    this.stream.once('end', () => {
      this.consumed = true;
    });
  }

  /** The whole body as text (JSON bodies, capped by the same limit). */
  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Reads and discards the rest (to hash it, or to answer a 400 without cutting the upload off). */
  async drain(): Promise<void> {
    if (this.consumed || this.stream.destroyed) return;
    for await (const _ of this.stream) {
      // discard
    }
  }

  /** SHA-256 of content type, query and body; valid once the body was read to its end. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }
}
