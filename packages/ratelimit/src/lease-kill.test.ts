import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLimiter } from './limiter.js';
import { connectRedis, deleteByPrefix, testPrefix } from './test-support/redis.js';
import type { AcquireResult } from './types.js';

const prefix = testPrefix();
let redis: Redis;

beforeAll(() => {
  redis = connectRedis();
});

afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

describe('a worker killed mid-call', () => {
  it('holds its concurrency slot while alive and loses it one lease after SIGKILL', async () => {
    const leaseMs = 1_500;
    const limiter = createLimiter(redis, { prefix });
    await limiter.configure({ id: 'killed', concurrency: 1 });

    const script = fileURLToPath(new URL('./test-support/lease-holder-process.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--conditions=@pixelmill/source', '--import', 'tsx', script, prefix, 'killed', String(leaseMs)],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
      },
    );
    const exited = once(child, 'exit');
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = await lines.next();
      if (first.done) throw new Error('child exited before taking its slot');
      const { grantedAt } = JSON.parse(first.value) as { grantedAt: number };

      // Alive past its first lease period: the heartbeat keeps the slot taken.
      await vi.waitFor(
        async () => expect((await limiter.state('killed')).at).toBeGreaterThan(grantedAt + leaseMs * 1.2),
        { timeout: 10_000, interval: 100 },
      );
      expect(await limiter.tryAcquire('killed', { leaseMs, holder: 'survivor' })).toMatchObject({
        ok: false,
        reason: 'concurrency',
      });

      child.kill('SIGKILL');
      await exited;
      const killedAt = (await limiter.state('killed')).at;
      expect(await limiter.tryAcquire('killed', { leaseMs, holder: 'survivor' })).toMatchObject({
        ok: false,
        reason: 'concurrency',
      });

      let granted: AcquireResult | undefined;
      await vi.waitFor(
        async () => {
          granted = await limiter.tryAcquire('killed', { leaseMs, holder: 'survivor' });
          expect(granted.ok).toBe(true);
        },
        { timeout: 10_000, interval: 50 },
      );
      if (!granted?.ok) throw new Error('unreachable');
      // Freed by expiry alone (nobody released it), within one lease of the kill.
      expect(granted.grantedAt - killedAt).toBeLessThan(leaseMs * 2);
      expect((await limiter.state('killed')).inFlight).toBe(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
