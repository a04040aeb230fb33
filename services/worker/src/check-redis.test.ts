import { describe, expect, it } from 'vitest';
import { checkRedisPersistence } from './check-redis.js';

function fakeRedis(values: Record<string, string> | 'refused') {
  return {
    config: async (_op: string, name: string) => {
      if (values === 'refused') throw new Error('ERR unknown command CONFIG');
      return [name, values[name] ?? ''];
    },
  } as never;
}

function recorder() {
  const lines: { level: string; text: string }[] = [];
  const log =
    (level: string) =>
    (a: unknown, b?: unknown): void => {
      lines.push({ level, text: typeof a === 'string' ? a : String(b) });
    };
  return { lines, logger: { warn: log('warn'), info: log('info'), error: log('error') } as never };
}

describe('checkRedisPersistence', () => {
  it('is quiet for noeviction with AOF', async () => {
    const r = recorder();
    const got = await checkRedisPersistence(
      fakeRedis({ 'maxmemory-policy': 'noeviction', appendonly: 'yes' }),
      r.logger,
    );
    expect(got).toEqual({ evictionPolicy: 'noeviction', appendonly: 'yes' });
    expect(r.lines).toEqual([]);
  });

  it('shouts when an eviction policy may delete jobs, and warns without AOF', async () => {
    const r = recorder();
    await checkRedisPersistence(fakeRedis({ 'maxmemory-policy': 'allkeys-lru', appendonly: 'no' }), r.logger);
    expect(r.lines.map((l) => l.level)).toEqual(['error', 'warn']);
    expect(r.lines[0]?.text).toMatch(/IMPORTANT.*allkeys-lru.*noeviction/);
  });

  it('warns and goes on when CONFIG GET is refused (managed Redis)', async () => {
    const r = recorder();
    await expect(checkRedisPersistence(fakeRedis('refused'), r.logger)).resolves.toEqual({
      evictionPolicy: null,
      appendonly: null,
    });
    expect(r.lines[0]?.text).toMatch(/could not read maxmemory-policy/);
  });
});
