/**
 * @module Lines of a JSONL response body, read as a stream with backpressure: the next chunk is read
 * only once the consumer asked for the next line, so memory holds one line (plus one chunk) whatever
 * the file's size (a results file of 4K images is hundreds of megabytes). Lines are split on the
 * newline byte (never part of a multi-byte UTF-8 character) and each is decoded once, into one string.
 * node:readline is not used: its async iterator keeps reading and queues every line while the
 * consumer is busy (Node 20).
 */

const NEWLINE = 0x0a;

export async function* jsonlLines(body: ReadableStream<Uint8Array> | null): AsyncIterable<string> {
  if (body === null) return;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  /** The current line's bytes so far (it may span many chunks). */
  let parts: Uint8Array[] = [];
  const complete = (): string | undefined => {
    const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    parts = [];
    const line = decoder.decode(bytes);
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    return text.trim() === '' ? undefined : text;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        const last = parts.length > 0 ? complete() : undefined;
        if (last !== undefined) yield last;
        return;
      }
      let chunk = value;
      for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE)) {
        parts.push(chunk.subarray(0, nl));
        chunk = chunk.subarray(nl + 1);
        const line = complete();
        if (line !== undefined) yield line;
      }
      if (chunk.length > 0) parts.push(chunk);
    }
  } finally {
    // A consumer that stopped early: the rest of the body is not downloaded.
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
