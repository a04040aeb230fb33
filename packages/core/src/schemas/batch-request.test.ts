import { describe, expect, test } from 'vitest';
import { validateBatchRequest } from '../validation.js';

const problems = (body: unknown) => {
  const r = validateBatchRequest(body);
  return r.ok ? [] : r.problems;
};

describe('createBatchRequestSchema', () => {
  test('accepts the documented example', () => {
    expect(
      problems({
        model: 'gemini-3-pro-image',
        defaults: { size: '1K', aspect_ratio: '1:1', n: 1 },
        items: [
          { custom_id: 'sku-1001-front', prompt: 'Studio shot', size: '2K', aspect_ratio: '4:3', n: 2 },
        ],
        webhook: { url: 'https://example.com/hooks/pixelmill', events: ['batch.completed'] },
        output: { prefix: 'catalog/fall/', format: 'png' },
        priority: 'normal',
        metadata: { campaign: 'fall' },
      }),
    ).toEqual([]);
  });

  test('names each bad field by its path', () => {
    const p = problems({
      model: 'm',
      items: [
        { custom_id: 'a', prompt: 'ok' },
        { custom_id: 'b', prompt: '   ' },
        { custom_id: 'a', prompt: 'x', size: '3K', n: 11 },
      ],
    });
    const paths = p.map((x) => x.path).sort();
    expect(paths).toEqual(['items[1].prompt', 'items[2].custom_id', 'items[2].n', 'items[2].size']);
    expect(p.find((x) => x.path === 'items[2].custom_id')?.message).toContain('items[0]');
  });

  test('a missing prompt and an unknown field are named', () => {
    const p = problems({ model: 'm', items: [{ custom_id: 'a', promt: 'typo' }] });
    expect(p.map((x) => x.path).sort()).toEqual(['items[0].prompt', 'items[0].promt']);
  });

  test('rejects unsafe custom ids and prefixes', () => {
    const p = problems({
      model: 'm',
      items: [{ custom_id: '../x', prompt: 'p' }],
      output: { prefix: '/abs/../x' },
    });
    expect(p.map((x) => x.path).sort()).toEqual(['items[0].custom_id', 'output.prefix']);
  });
});
