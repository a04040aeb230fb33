import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Context } from 'hono';

/**
 * The request body as a Node stream that hashes its bytes as they pass, with the content type and
 * query, for Idempotency-Key's "same body" test. Its size is capped beneath it by the body-cap
 * middleware (PIXELMILL_MAX_BODY_BYTES for the ingest): past the cap the stream errors with that 413.
 */
export class MeteredBody {
  readonly stream: Readable;
  private readonly hash: Hash;
  private consumed = false;

  constructor(c: Context) {
    this.hash = createHash('sha256').update(
      `${c.req.header('content-type') ?? ''}\n${new URL(c.req.url).search}\n`,
    );
    const raw = c.req.raw.body;
    const source = raw
      ? Readable.fromWeb(raw as unknown as WebReadableStream<Uint8Array>)
      : Readable.from([]);
    const hasher = new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        this.hash.update(chunk);
        done(null, chunk);
      },
    });
    source.on('error', (err) => hasher.destroy(err));
    this.stream = source.pipe(hasher);
    this.stream.once('end', () => {
      this.consumed = true;
    });
  }

  /** The whole body as text (JSON bodies; the cap beneath bounds it). */
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
