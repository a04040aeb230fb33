/**
 * The simulator in a process of its own: the benchmark's runner process also drives the naive
 * contender and the samplers, and a busy event loop there would delay the simulator's answers and
 * blur its window edges for all three contenders alike.
 */
import type { SimStats } from '@pixelmill/provider-sim';
import { startService, stopService, waitFor } from '../../support/processes.js';

export interface SimProcess {
  url: string;
  stats(): Promise<SimStats>;
  /** When each request reached the simulator's limiter, per key (epoch ms), and whether admitted. */
  arrivals(): Promise<Record<string, Array<{ t: number; ok: boolean }>>>;
  stop(): Promise<void>;
}

export async function startSimProcess(env: Record<string, string>): Promise<SimProcess> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const service = startService('provider-sim', 'packages/provider-sim/src/main.ts', {
    ...env,
    SIM_PORT: String(port),
    SIM_HOST: '127.0.0.1',
  });
  await waitFor('the simulator', () => (service.output().includes('listening on') ? true : undefined), {
    timeoutMs: 60_000,
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stats: async () => (await (await fetch(`${url}/__stats`)).json()) as SimStats,
    arrivals: async () =>
      (await (await fetch(`${url}/__arrivals`)).json()) as Record<string, Array<{ t: number; ok: boolean }>>,
    stop: async () => {
      await stopService(service);
    },
  };
}
