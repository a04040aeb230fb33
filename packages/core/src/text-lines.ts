/**
 * @module Lines of a byte stream (an HTTP request or response body, a file), read with backpressure:
 * the next chunk is read only once the consumer asked for the next line, so memory holds one line
 * (plus one chunk) whatever the stream's size (a 4K results file is hundreds of megabytes, a catalog
 * upload millions of lines). Lines are split on the newline byte (never part of a multi-byte UTF-8
 * character), a trailing CR is dropped, each line is decoded once, and blank lines are skipped.
 * node:readline is not used: its async iterator keeps reading and queues every line while the
 * consumer is busy (Node 20).
 */

const NEWLINE = 0x0a;

/** A line and its 1-based number in the stream (blank lines count, so numbers match an editor's). */
export interface NumberedLine {
  text: string;
  number: number;
}

/**
 * Every non-blank line of `source` with its number. A web `ReadableStream` or a Node `Readable` both
 * qualify; a consumer that stops early cancels (or destroys) the source, so the rest is not read.
 */
export async function* numberedLines(
  source: AsyncIterable<Uint8Array> | null,
): AsyncGenerator<NumberedLine, void, undefined> {
  if (source === null) return;
  const decoder = new TextDecoder();
  let number = 0;
  /** The current line's bytes so far (it may span many chunks). */
  let parts: Uint8Array[] = [];
  const complete = (): NumberedLine | undefined => {
    const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    parts = [];
    number += 1;
    const line = decoder.decode(bytes);
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    return text.trim() === '' ? undefined : { text, number };
  };
  for await (const value of source) {
    let chunk = value;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE)) {
      parts.push(chunk.subarray(0, nl));
      chunk = chunk.subarray(nl + 1);
      const line = complete();
      if (line !== undefined) yield line;
    }
    if (chunk.length > 0) parts.push(chunk);
  }
  const last = parts.length > 0 ? complete() : undefined;
  if (last !== undefined) yield last;
}

/** The non-blank lines of `source` (see numberedLines). */
export async function* textLines(
  source: AsyncIterable<Uint8Array> | null,
): AsyncGenerator<string, void, undefined> {
  for await (const line of numberedLines(source)) yield line.text;
}
