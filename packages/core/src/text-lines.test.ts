import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { numberedLines, textLines } from './text-lines.js';

/** A body serving `chunks` on demand, counting how many were pulled and whether it was cancelled. */
function body(chunks: Uint8Array[]) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[seen.pulled++];
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

const bytes = (text: string) => new TextEncoder().encode(text);

async function collect(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of textLines(stream)) out.push(line);
  return out;
}

describe('textLines', () => {
  test('joins lines split across chunks (also inside a multi-byte character), drops blank lines and CRs', async () => {
    const all = bytes('{"a":"é"}\r\n\n{"b":2}\n   \n{"c":"last, no newline"}');
    const at = all.indexOf(0xa9); // second byte of "é"
    const chunks = [all.subarray(0, 3), all.subarray(3, at), all.subarray(at, at + 5), all.subarray(at + 5)];
    expect(await collect(body(chunks).stream)).toEqual(['{"a":"é"}', '{"b":2}', '{"c":"last, no newline"}']);
  });

  test('reads the next chunk only when the consumer asks for the next line', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => bytes(`{"line":${i}}\n`));
    const { stream, seen } = body(lines);
    let consumed = 0;
    for await (const _ of textLines(stream)) {
      consumed++;
      await new Promise((r) => setImmediate(r));
      expect(seen.pulled).toBeLessThanOrEqual(consumed + 1);
    }
    expect(consumed).toBe(50);
  });

  test('a consumer that stops early cancels the body', async () => {
    const { stream, seen } = body(Array.from({ length: 10 }, () => bytes('{"x":1}\n')));
    for await (const _ of textLines(stream)) break;
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(10);
  });

  test('no body, no lines', async () => {
    const out: string[] = [];
    for await (const line of textLines(null)) out.push(line);
    expect(out).toEqual([]);
  });
  test('numbers lines as an editor does (blank lines count)', async () => {
    const out = [];
    for await (const line of numberedLines(body([bytes('a\n\n  \nb\r\nc')]).stream)) out.push(line);
    expect(out).toEqual([
      { text: 'a', number: 1 },
      { text: 'b', number: 4 },
      { text: 'c', number: 5 },
    ]);
  });

  test('reads a Node stream on demand too: a slow consumer never has more than a few chunks read ahead', async () => {
    let produced = 0;
    const source = new Readable({
      highWaterMark: 1,
      objectMode: true,
      read() {
        produced += 1;
        this.push(produced > 200 ? null : bytes(`{"line":${produced}}\n`));
      },
    });
    let consumed = 0;
    for await (const _ of textLines(source)) {
      consumed++;
      await new Promise((r) => setImmediate(r));
      expect(produced).toBeLessThanOrEqual(consumed + 3);
    }
    expect(consumed).toBe(200);
  });

  test('a consumer that stops early destroys a Node stream', async () => {
    const source = Readable.from(
      (function* () {
        for (;;) yield bytes('{"x":1}\n');
      })(),
    );
    for await (const _ of textLines(source)) break;
    expect(source.destroyed).toBe(true);
  });
});
