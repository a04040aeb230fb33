/** BENCH_TRACE=1: once a second, pixelmill's view of each key (effective rpm, window, in flight, cooldown). */
import type { SimStats } from '@pixelmill/provider-sim';
import { buildRegistry } from '@pixelmill/providers';
import { readLimitStates } from '@pixelmill/ratelimit';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../../support/stack.js';
import { keysOf, MODEL } from './workload.js';

export function traceLimits(prefix: string, readStats: () => Promise<SimStats>): { stop(): void } {
  let lastOk = 0;
  let last429 = 0;
  let last5xx = 0;
  const redis = new Redis(REDIS_URL);
  const registry = buildRegistry({
    providers: [
      { name: 'openai', kind: 'openai-images', api_keys: keysOf('pixelmill'), models: [{ id: MODEL }] },
    ],
  });
  const t0 = Date.now();
  const timer = setInterval(async () => {
    const model = (await readLimitStates(redis, prefix, registry)).find((m) => m.model === MODEL);
    const keys = (model?.keys ?? []).map(({ state: s }) =>
      s
        ? `eff ${s.effectiveRpm} win ${s.inWindow} flight ${s.inFlight}${s.cooldownUntil ? ' cooling' : ''}`
        : '-',
    );
    const stats = await readStats();
    const sum = (status: string) =>
      keysOf('pixelmill').reduce((n, k) => n + (stats.byKey[k]?.byStatus[status] ?? 0), 0);
    const ok = sum('200');
    const limited = sum('429');
    const failed = Object.keys(stats.byStatus)
      .filter((status) => status.startsWith('5'))
      .reduce((n, status) => n + sum(status), 0);
    console.log(
      `trace ${((Date.now() - t0) / 1000).toFixed(1)} s | ok +${ok - lastOk} 429 +${limited - last429} 5xx +${failed - last5xx} | ${keys.join(' | ')}`,
    );
    lastOk = ok;
    last429 = limited;
    last5xx = failed;
  }, 1000);
  return {
    stop: () => {
      clearInterval(timer);
      redis.disconnect();
    },
  };
}
