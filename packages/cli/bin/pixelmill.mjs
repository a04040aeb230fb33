#!/usr/bin/env node
// The `pixelmill` command. A built package runs dist/; in the repository it runs the TypeScript source
// through tsx, so `pnpm exec pixelmill` works without a build step.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
