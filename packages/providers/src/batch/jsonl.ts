/**
 * @module Lines of a JSONL response body, read as a stream: one line in memory at a time (a results
 * file of 4K images is hundreds of megabytes).
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export async function* jsonlLines(body: ReadableStream<Uint8Array> | null): AsyncIterable<string> {
  if (body === null) return;
  const input = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) if (line.trim() !== '') yield line;
  } finally {
    lines.close();
    input.destroy();
  }
}
