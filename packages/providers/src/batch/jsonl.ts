/**
 * @module Lines of a JSONL response body, read as a stream with backpressure: the next chunk is read
 * only once the consumer asked for the next line, so memory holds one line (plus one chunk) whatever
 * the file's size (a results file of 4K images is hundreds of megabytes). node:readline is not used:
 * its async iterator keeps reading and queues every line while the consumer is busy (Node 20).
 */

export async function* jsonlLines(body: ReadableStream<Uint8Array> | null): AsyncIterable<string> {
  if (body === null) return;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  /** The current line's text so far (it may span many chunks). */
  const parts: string[] = [];
  const complete = (tail: string): string | undefined => {
    parts.push(tail);
    const line = parts.join('');
    parts.length = 0;
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    return text.trim() === '' ? undefined : text;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      let text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const line = complete(text.slice(0, nl));
        text = text.slice(nl + 1);
        if (line !== undefined) yield line;
      }
      if (done) {
        const last = complete(text);
        if (last !== undefined) yield last;
        return;
      }
      if (text !== '') parts.push(text);
    }
  } finally {
    // A consumer that stopped early: the rest of the body is not downloaded.
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
