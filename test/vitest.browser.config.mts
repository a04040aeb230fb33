// The console's browser tests (Chromium via playwright-core), run after the end-to-end tests by this
// package's `test` script. A separate config keeps them apart from e2e/ and chaos/ runs.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../vitest.base.ts';

export default mergeConfig(
  base,
  defineConfig({ test: { include: ['browser/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 120_000 } }),
);
