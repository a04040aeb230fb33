// Shared vitest settings: run workspace packages from their TypeScript source.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@pixelmill/source'] },
  ssr: { resolve: { conditions: ['@pixelmill/source'], externalConditions: ['@pixelmill/source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // The AWS SDK's notice that its releases from 2027 need Node 22 (stack.md pins Node 20), once per process.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    include: ['src/**/*.test.ts'],
  },
});
