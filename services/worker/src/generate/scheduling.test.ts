import { randomUUID } from 'node:crypto';
import { type BatchSpec, ProviderError } from '@pixelmill/core';
import { type RunningSim, startSim } from '@pixelmill/provider-sim';
import { buildRegistry } from '@pixelmill/providers';
import { createLimiter, keyId as keyIdOf, schedulingPrefixes } from '@pixelmill/ratelimit';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkerDeps } from '../deps.js';
import { configureLimits, keyResources } from './resources.js';
import { countsAgainstCircuit, createScheduling } from './scheduling.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `test-sched-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const registry = buildRegistry({
  providers: [
    {
      name: 'g',
      kind: 'gemini',
      // Nothing listens here: key checks cannot tell, and a new key's first call is its trial.
      base_url: 'http://127.0.0.1:9',
      api_keys: ['key-one-aaaa', 'key-two-bbbb'],
      models: [
        { id: 'sim-main', fallback: ['sim-small', 'sim-spare'] },
        { id: 'sim-small', sizes: ['1K'] },
        { id: 'sim-spare' },
        { id: 'sim-alone' },
        { id: 'sim-paced', rpm: 60, concurrency: 8 },
      ],
    },
  ],
});
const limiter = createLimiter(redis, { prefix: schedulingPrefixes(prefix).limiter });
const deps = {
  redis,
  registry,
  limiter,
  queues: {
    prefix,
    generate: (model: string) => ({ name: `generate-${model}`, rateLimit: async () => undefined }),
  },
  logger: { warn: () => undefined },
  options: { itemDeadlineMs: 60_000, itemAttempts: 3, circuit: { failures: 2, openMs: 5_000 } },
} as unknown as WorkerDeps;
const scheduling = createScheduling(deps);
const spec = { created_at: new Date().toISOString(), priority: 'normal' } as BatchSpec;
const item = {
  model: 'sim-main',
  size: '2K' as const,
  aspect_ratio: null,
  reference_images: [] as string[],
  n: 1,
};
const model = (id: string) => registry.resolve(id)!;

describe('scheduling policy', () => {
  it('counts 5xx, network errors and timeouts against the circuit; not 4xx, 429 or our own errors', () => {
    const e = (code: 'provider_error' | 'timeout' | 'rate_limited' | 'storage_error', status?: number) =>
      new ProviderError({ code, message: 'x', retryable: true, scope: 'item', status });
    expect(countsAgainstCircuit(e('provider_error', 503))).toBe(true);
    expect(countsAgainstCircuit(e('provider_error'))).toBe(true);
    expect(countsAgainstCircuit(e('timeout'))).toBe(true);
    expect(countsAgainstCircuit(e('provider_error', 400))).toBe(false);
    expect(countsAgainstCircuit(e('rate_limited', 429))).toBe(false);
    expect(countsAgainstCircuit(e('storage_error'))).toBe(false);
  });

  it('fails an item past its deadline with timeout, and never waits past it', async () => {
    const old = { ...spec, created_at: new Date(Date.now() - 59_000).toISOString() };
    expect(scheduling.deadlineError(spec)).toBeNull();
    expect(scheduling.deadlineError(old, Date.now() + 2_000)).toMatchObject({ code: 'timeout' });
    const waited = await scheduling.whenBlocked(model('sim-alone'), item, old, {
      ok: false,
      reason: 'rpm',
      retryInMs: 30_000,
      resourceId: 'x',
    });
    expect(waited.kind).toBe('wait');
    expect(waited.kind === 'wait' && waited.ms).toBeLessThanOrEqual(1_000);
  });

  it('moves an item off an open circuit to the first fallback that can take it', async () => {
    await configureLimits(limiter, registry);
    await scheduling.breaker.recordFailure('sim-main');
    await scheduling.breaker.recordFailure('sim-main');
    const queue = { name: 'q', rateLimit: async () => undefined } as unknown as Queue;
    const gate = await scheduling.acquire(queue, model('sim-main'), [], {
      images: 1,
      leaseMs: 1000,
      holder: 't',
    });
    expect(gate).toMatchObject({ ok: false, reason: 'circuit' });
    if (gate.ok) throw new Error('unreachable');
    // sim-small cannot do 2K: sim-spare is the first usable fallback.
    expect(await scheduling.whenBlocked(model('sim-main'), item, spec, gate)).toMatchObject({
      kind: 'reroute',
      to: { id: 'sim-spare' },
    });
    // A model without fallbacks waits for the circuit's half-open moment instead.
    const alone = await scheduling.whenBlocked(
      model('sim-alone'),
      { ...item, model: 'sim-alone' },
      spec,
      gate,
    );
    expect(alone).toEqual({ kind: 'wait', ms: gate.retryInMs });
  });

  it('fails with quota_exhausted when every key is parked for good and no fallback is usable', async () => {
    for (const r of keyResources(registry, model('sim-alone'))) await limiter.park(r.id, null);
    const blocked = { ok: false, reason: 'parked', retryInMs: 60_000, resourceId: 'x' } as const;
    expect(
      await scheduling.whenBlocked(model('sim-alone'), { ...item, model: 'sim-alone' }, spec, blocked),
    ).toMatchObject({ kind: 'fail', error: { code: 'quota_exhausted' } });
    // Parked until a known time (a daily quota): wait for it.
    for (const r of keyResources(registry, model('sim-alone')))
      await limiter.park(r.id, Date.now() + 3_600_000);
    expect(
      (await scheduling.whenBlocked(model('sim-alone'), { ...item, model: 'sim-alone' }, spec, blocked)).kind,
    ).toBe('wait');
  });
});

describe('key scope: refused keys', () => {
  const queue = { name: 'q-keys', rateLimit: async () => undefined } as unknown as Queue;
  const opts = { images: 1, leaseMs: 1000, holder: 't' };

  it('a revoked key leaves the rotation of every model of its provider; none left → revoked, then a fallback or a wait', async () => {
    await configureLimits(limiter, registry);
    const [first, second] = keyResources(registry, model('sim-spare'));
    await scheduling.keys.revoke(model('sim-spare'), first!, 'API_KEY_INVALID');
    // Another model of the same provider uses only the other key.
    const small = keyResources(registry, model('sim-small'));
    for (let i = 0; i < 3; i++) {
      const grant = await scheduling.acquireKey(queue, model('sim-small'), small, opts);
      expect(grant).toMatchObject({ resourceId: small[1]!.id });
      // The call answered (anything but a refusal): the key is proven in this process.
      if (grant.ok) scheduling.keys.answered(model('sim-small'), small[1]!, false);
      if (grant.ok) await scheduling.release(grant);
    }
    await scheduling.keys.revoke(model('sim-main'), second!, 'API_KEY_INVALID');
    const blocked = await scheduling.acquireKey(queue, model('sim-small'), small, opts);
    expect(blocked).toMatchObject({ ok: false, reason: 'revoked' });
    if (blocked.ok) throw new Error('unreachable');
    expect(blocked.retryInMs).toBeGreaterThan(59 * 60_000);
    // Every model of the provider is keyless: no fallback is usable, the item waits (at most a minute).
    const waited = await scheduling.whenBlocked(model('sim-main'), item, spec, blocked);
    expect(waited.kind === 'wait' && waited.ms).toBeGreaterThan(50_000);
    // At the deadline it fails with config_error, not timeout.
    const old = { ...spec, created_at: new Date(Date.now() - 61_000).toISOString() };
    expect(await scheduling.whenBlocked(model('sim-main'), item, old, blocked)).toMatchObject({
      kind: 'fail',
      error: { code: 'config_error' },
    });
    expect(await scheduling.lateError(old, model('sim-main'))).toMatchObject({ code: 'config_error' });
    expect(await scheduling.lateError(spec, model('sim-main'))).toBeNull();
    await scheduling.keys.revocations.restore('g', keyIdOf(second!.apiKey));
    // Back in rotation (for a process that did not itself just see it refused): the limiter decides
    // again (a grant, or the key's own spacing).
    expect(await createScheduling(deps).acquireKey(queue, model('sim-small'), small, opts)).toMatchObject({
      resourceId: small[1]!.id,
    });
    await scheduling.keys.revocations.restore('g', keyIdOf(first!.apiKey));
  });
});

describe('grants never sent', () => {
  const queue = { name: 'q-unsent', rateLimit: async () => undefined } as unknown as Queue;
  const opts = { images: 1, leaseMs: 10_000, holder: 't' };

  it('leave no window entry: every slot in the window belongs to a grant still held', async () => {
    await configureLimits(limiter, registry);
    const fresh = createScheduling(deps);
    const paced = model('sim-paced');
    const keys = keyResources(registry, paced);
    // Neither key is proven yet: one trial call per key, so most of these askers lose the key they
    // were granted to another asker's trial, and hand the grant back unsent.
    const grants = await Promise.all(
      Array.from({ length: 6 }, () => fresh.acquireKey(queue, paced, keys, opts)),
    );
    const held = grants.filter((g) => g.ok);
    expect(held.length).toBeGreaterThan(0);
    expect(grants.some((g) => !g.ok && g.reason === 'trial')).toBe(true);
    const states = await Promise.all(keys.map((k) => limiter.state(k.id)));
    expect(states.reduce((sum, st) => sum + st.inWindow, 0)).toBe(held.length);
    expect(states.reduce((sum, st) => sum + st.inFlight, 0)).toBe(held.length);
    // The item turned out to be another runner's: the grant goes back whole.
    const first = held[0]!;
    if (!first.ok) throw new Error('unreachable');
    await fresh.withdraw(first, 1);
    expect((await limiter.state(first.resourceId)).inWindow).toBe(
      held.filter((g) => g.ok && g.resourceId === first.resourceId).length - 1,
    );
  });
});

describe('key checks', () => {
  const queue = { name: 'q-checked', rateLimit: async () => undefined } as unknown as Queue;
  const opts = { images: 1, leaseMs: 10_000, holder: 't' };
  let sim: RunningSim | undefined;

  afterAll(async () => {
    await sim?.close();
  });

  it('a new key the provider accepts runs at full rate at once; a refused one never gets an image call', async () => {
    sim = await startSim({ port: 0, seed: 3, revokedKeys: ['revoked-key-cccc'] });
    const checked = buildRegistry({
      providers: [
        {
          name: 'checked',
          kind: 'openai-images',
          base_url: `${sim.url}/v1`,
          api_keys: ['good-key-dddd', 'revoked-key-cccc'],
          models: [{ id: 'gpt-image-1-mini', rpm: 6000, ipm: 6000, concurrency: 8 }],
        },
      ],
    });
    const warnings: string[] = [];
    const checkedDeps = {
      ...deps,
      registry: checked,
      logger: { warn: (_: unknown, msg: string) => warnings.push(msg) },
    } as unknown as WorkerDeps;
    await configureLimits(limiter, checked);
    const fresh = createScheduling(checkedDeps);
    const m = checked.resolve('gpt-image-1-mini')!;
    const keys = keyResources(checked, m);
    // Six askers at once: no trial denials, every grant on the good key.
    const grants = await Promise.all(Array.from({ length: 6 }, () => fresh.acquireKey(queue, m, keys, opts)));
    expect(grants.map((g) => g.ok && g.resourceId)).toEqual(Array(6).fill(keys[0]!.id));
    const stats = sim.stats();
    expect(stats.keyChecks).toEqual({
      'good-key-dddd': { requests: 1, refused: 0 },
      'revoked-key-cccc': { requests: 1, refused: 1 },
    });
    expect(stats.requests).toBe(0);
    // The refused key is out of rotation for every worker, with its warning.
    expect((await fresh.keys.inRotation(m, keys)).keys.map((k) => k.apiKey)).toEqual(['good-key-dddd']);
    expect(warnings.filter((w) => w.includes('Incorrect API key provided'))).toHaveLength(1);
    expect(warnings.filter((w) => w.startsWith('API key refused by the provider'))).toHaveLength(1);
    for (const g of grants) if (g.ok) await fresh.release(g);
    await fresh.keys.revocations.restore('checked', keyIdOf('revoked-key-cccc'));
  });
});
