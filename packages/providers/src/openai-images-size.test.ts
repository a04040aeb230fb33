import { describe, expect, it } from 'vitest';
import { openAiImageSize, openAiSizeMode } from './openai-images-size.js';

function check(size: string): void {
  const [w, h] = size.split('x').map(Number) as [number, number];
  expect(w % 16).toBe(0);
  expect(h % 16).toBe(0);
  expect(Math.max(w, h)).toBeLessThanOrEqual(3840);
  expect(Math.max(w, h) / Math.min(w, h)).toBeLessThanOrEqual(3);
  expect(w * h).toBeGreaterThanOrEqual(655_360);
  expect(w * h).toBeLessThanOrEqual(8_294_400);
}

describe('openAiSizeMode', () => {
  it('gpt-image-1.x is fixed, 2 and later flexible', () => {
    expect(openAiSizeMode('gpt-image-1')).toBe('fixed');
    expect(openAiSizeMode('gpt-image-1-mini')).toBe('fixed');
    expect(openAiSizeMode('gpt-image-1.5')).toBe('fixed');
    expect(openAiSizeMode('gpt-image-2')).toBe('flexible');
    expect(openAiSizeMode('gpt-image-2.5-sunburst')).toBe('flexible');
  });
});

describe('openAiImageSize', () => {
  it('fixed models pick the closest of three sizes by orientation', () => {
    expect(openAiImageSize('fixed', '1K', '1:1')).toBe('1024x1024');
    expect(openAiImageSize('fixed', '1K', '6:5')).toBe('1024x1024');
    expect(openAiImageSize('fixed', '1K', '4:5')).toBe('1024x1536');
    expect(openAiImageSize('fixed', '1K', '4:3')).toBe('1536x1024');
    expect(openAiImageSize('fixed', '1K', '16:9')).toBe('1536x1024');
    expect(openAiImageSize('fixed', '1K', '9:16')).toBe('1024x1536');
    expect(openAiImageSize('fixed', '1K', undefined)).toBe('auto');
  });

  it('flexible models follow the tier and ratio', () => {
    expect(openAiImageSize('flexible', '1K', '1:1')).toBe('1024x1024');
    expect(openAiImageSize('flexible', '2K', '16:9')).toBe('2048x1152');
    expect(openAiImageSize('flexible', '4K', '16:9')).toBe('3840x2160');
    expect(openAiImageSize('flexible', '4K', '9:16')).toBe('2160x3840');
    expect(openAiImageSize('flexible', '4K', '1:1')).toBe('2880x2880'); // pixel cap
    expect(openAiImageSize('flexible', '2K', undefined)).toBe('2048x2048');
  });

  it.each(['1K', '2K', '4K'] as const)('every flexible %s size satisfies the API constraints', (tier) => {
    for (const aspect of [
      '1:1',
      '2:3',
      '3:2',
      '3:4',
      '4:3',
      '4:5',
      '5:4',
      '9:16',
      '16:9',
      '21:9',
      '1:4',
      '8:1',
    ]) {
      check(openAiImageSize('flexible', tier, aspect));
    }
  });
});
