import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { optionsFromEnv } from './env.js';

describe('optionsFromEnv', () => {
  it('reads SIM_* variables', () => {
    expect(
      optionsFromEnv({
        SIM_PORT: '9001',
        SIM_SEED: '4',
        SIM_LATENCY_MS: '10-250',
        SIM_WINDOW_MS: '500',
        SIM_LIMITS: '{"k":{"rpm":5},"k|sim-a":{"concurrency":2}}',
        SIM_FAULTS: '{"http5xx":0.1}',
        SIM_DEPLETED_KEYS: 'a, b',
      }),
    ).toEqual({
      port: 9001,
      seed: 4,
      latencyMs: { min: 10, max: 250 },
      windowMs: 500,
      limits: { k: { rpm: 5 }, 'k|sim-a': { concurrency: 2 } },
      faults: { http5xx: 0.1 },
      depletedKeys: ['a', 'b'],
    });
    expect(optionsFromEnv({})).toEqual({ port: 8090 });
    expect(optionsFromEnv({ SIM_LATENCY_MS: '30' }).latencyMs).toEqual({ min: 30, max: 30 });
    expect(() => optionsFromEnv({ SIM_LIMITS: '{bad' })).toThrow(/SIM_LIMITS/);
  });
});

describe('main.ts', () => {
  it('logs its URL, serves, and exits 0 on SIGTERM', async () => {
    const pkg = fileURLToPath(new URL('..', import.meta.url));
    // The same command as the package's start script; tsx forwards SIGTERM to the server.
    const child = spawn('node_modules/.bin/tsx', ['--conditions=@pixelmill/source', 'src/main.ts'], {
      cwd: pkg,
      env: { ...process.env, SIM_PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    expect(await (await fetch(`${url}/__health`)).json()).toEqual({ ok: true });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
