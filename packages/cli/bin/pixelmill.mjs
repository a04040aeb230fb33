#!/usr/bin/env node
// The `pixelmill` command. A built package runs dist/; in the repository it runs the TypeScript source
// through tsx, so `pnpm exec pixelmill` works without a build step. The workspace packages it uses
// (@pixelmill/client) resolve to their sources only under the `@pixelmill/source` condition, which Node
// takes at start only: the source run starts a second Node with it and passes signals on.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SOURCE = '--conditions=@pixelmill/source';
const dist = new URL('../dist/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else if (process.execArgv.includes(SOURCE)) {
  await import(new URL('../src/main.ts', import.meta.url).href);
} else {
  const child = spawn(
    process.execPath,
    [
      SOURCE,
      '--import',
      import.meta.resolve('tsx'),
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
