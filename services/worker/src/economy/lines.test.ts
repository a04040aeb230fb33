import type { Item } from '@pixelmill/core';
import { BUILTIN_MODELS } from '@pixelmill/providers';
import { describe, expect, test } from 'vitest';
import { lineKey, linesOf, parseLineKey } from './lines.js';
import { pollDelayMs } from './processor.js';

const gemini = BUILTIN_MODELS.find((m) => m.id === 'gemini-3.1-flash-image')!;
const openai = BUILTIN_MODELS.find((m) => m.id === 'gpt-image-2')!;

const item = (id: string, n: number, stored: number[] = []): Item =>
  ({
    id,
    prompt: `p ${id}`,
    size: '1K',
    aspect_ratio: '4:3',
    n,
    outputs: stored.map((index) => ({ index })),
  }) as unknown as Item;

describe('economy lines', () => {
  test('Gemini: one line per missing image; OpenAI: one line asking for every missing image', () => {
    const items = [item('i1', 1), item('i2', 3, [0])];
    expect(linesOf(gemini, items).map((l) => [l.key, l.n])).toEqual([
      ['i1~0', 1],
      ['i2~1', 1],
      ['i2~2', 1],
    ]);
    expect(linesOf(openai, items).map((l) => [l.key, l.n])).toEqual([
      ['i1~0', 1],
      ['i2~1', 2],
    ]);
    expect(linesOf(openai, [item('done', 1, [0])])).toEqual([]);
    expect(linesOf(gemini, items)[0]).toMatchObject({ prompt: 'p i1', size: '1K', aspectRatio: '4:3' });
  });

  test('a key finds its item and first index again; anything else is refused', () => {
    expect(parseLineKey(lineKey('item_a~b', 2))).toEqual({ itemId: 'item_a~b', index: 2 });
    for (const bad of ['', 'x', '~1', 'x~', 'x~-1', 'x~1.5']) expect(parseLineKey(bad)).toBeUndefined();
  });

  test('polls back off from the minimum, doubling, to the maximum', () => {
    const opts = { pollMinMs: 100, pollMaxMs: 1000 };
    expect([1, 2, 3, 4, 5, 50].map((p) => pollDelayMs(p, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});
