import { buildRegistry } from '@pixelmill/providers';
import { describe, expect, it } from 'vitest';
import { guardedWindowMs, imagesPerCall, keyResources, windowedLimits } from './resources.js';

describe('declared limits as limiter settings', () => {
  it('keeps whole rates as they are, per window', () => {
    expect(windowedLimits({ rpm: 20, ipm: 40, concurrency: 8 }, 60_000)).toEqual({
      rpm: 20,
      ipm: 40,
      concurrency: 8,
      windowMs: 60_000,
    });
    expect(windowedLimits({}, 10_000)).toEqual({ windowMs: 10_000 });
  });

  it('keeps fractional rates exact by stretching the window', () => {
    expect(windowedLimits({ rpm: 0.5 }, 60_000)).toEqual({ rpm: 1, windowMs: 120_000 });
    expect(windowedLimits({ rpm: 2.5, ipm: 7.5 }, 60_000)).toEqual({ rpm: 5, ipm: 15, windowMs: 120_000 });
    expect(windowedLimits({ rpm: 0.1 }, 60_000)).toEqual({ rpm: 1, windowMs: 600_000 });
    expect(windowedLimits({ rpm: 1 / 7 }, 60_000)).toEqual({ rpm: 1, windowMs: 420_000 });
    // No whole multiple within 60 windows: rounded down, never up.
    expect(windowedLimits({ rpm: 13 / 61 }, 60_000)).toEqual({ rpm: 12, windowMs: 3_600_000 });
  });

  it('lengthens the window by 0.25 %, at least 25 ms, against arrival jitter', () => {
    expect(guardedWindowMs(60_000)).toBe(60_150);
    expect(guardedWindowMs(6_000)).toBe(6_025);
    expect(guardedWindowMs(2_000)).toBe(2_025);
  });

  it('asks for no more images per call than ipm allows; names keys by hash', () => {
    const registry = buildRegistry({
      providers: [
        {
          name: 'openai',
          kind: 'openai-images',
          api_keys: ['sk-test-aaaa', 'sk-test-bbbb', 'sk-test-aaaa'],
          models: [{ id: 'gpt-image-1-mini', ipm: 3, max_images_per_call: 10 }],
        },
      ],
    });
    const model = registry.resolve('gpt-image-1-mini')!;
    expect(imagesPerCall(model)).toBe(3);
    const resources = keyResources(registry, model);
    expect(resources).toHaveLength(2);
    for (const r of resources) {
      expect(r.id).toMatch(/^openai\|gpt-image-1-mini\|[0-9a-f]{10}$/);
      expect(r.id).not.toContain('sk-test');
    }
  });
});
