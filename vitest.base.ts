// Shared vitest settings: run workspace packages from their TypeScript source.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@pixelmill/source'] },
  ssr: { resolve: { conditions: ['@pixelmill/source'], externalConditions: ['@pixelmill/source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    include: ['src/**/*.test.ts'],
  },
});
