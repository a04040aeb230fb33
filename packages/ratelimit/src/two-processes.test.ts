import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiter } from './limiter.js';
import { hammer, maxInAnyWindow } from './test-support/hammer.js';
import { connectRedis, deleteByPrefix, testPrefix } from './test-support/redis.js';

const prefix = testPrefix();
let redis: Redis;
let child: ChildProcessWithoutNullStreams | undefined;

beforeAll(() => {
  redis = connectRedis();
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill();
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

/** Starts the child under tsx and resolves with a reader of its stdout lines once it is ready. */
async function startChild(resourceId: string) {
  const script = fileURLToPath(new URL('./test-support/hammer-process.ts', import.meta.url));
  const packageDir = fileURLToPath(new URL('..', import.meta.url));
  const proc = spawn(
    process.execPath,
    ['--conditions=@pixelmill/source', '--import', 'tsx', script, prefix, resourceId],
    { cwd: packageDir },
  );
  child = proc;
  // Listen before anything can make it exit, so the event is never missed.
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error(`child exited early: ${stderr}`);
    return line.value;
  };
  expect(await next()).toBe('ready');
  return { proc, next, exited };
}

describe('two processes share one limit', () => {
  it('never grant more than rpm together in any window span', async () => {
    const rpm = 8;
    const windowMs = 500;
    const limiter = createLimiter(redis, { prefix });
    await limiter.configure({ id: 'shared', rpm, windowMs });

    const { proc, next, exited } = await startChild('shared');
    const endAt = Date.now() + 2_700;
    proc.stdin.write(`go ${endAt}\n`);
    const [mine, theirs] = await Promise.all([
      hammer(limiter, 'shared', { endAt, loops: 4, holder: 'parent' }),
      next().then((line) => (JSON.parse(line) as { grants: number[] }).grants),
    ]);
    expect((await exited)[0]).toBe(0);

    const all = [...mine, ...theirs];
    expect(mine.length).toBeGreaterThan(0);
    expect(theirs.length).toBeGreaterThan(0);
    expect(maxInAnyWindow(all, windowMs)).toBe(rpm);
    expect(all.length).toBeGreaterThanOrEqual(rpm * 5);
  });
});
