import { describe, expect, it } from 'vitest';
import { startSim } from './server.js';
import { type Format, retryHintMs, send } from './test-support/helpers.js';

const FORMATS: Format[] = ['gemini', 'openai', 'chat'];

describe('RPM sliding window over HTTP', () => {
  it.each(FORMATS)('%s: rpm+k concurrent requests → exactly k 429s with retry hints', async (format) => {
    const sim = await startSim({ limits: { k: { rpm: 4 } } });
    try {
      const replies = await Promise.all(Array.from({ length: 7 }, () => send(sim.url, format, 'k')));
      const limited = replies.filter((r) => r.status === 429);
      expect(replies.filter((r) => r.status === 200)).toHaveLength(4);
      expect(limited).toHaveLength(3);
      for (const r of limited) {
        const hint = retryHintMs(format, r);
        expect(hint).toBeGreaterThan(0);
        expect(hint).toBeLessThanOrEqual(60_000);
      }
      if (format === 'gemini') {
        const details = limited[0]?.json.error.details;
        expect(details[0].violations[0].quotaId).toMatch(/PerMinute/);
        expect(limited[0]?.json.error.status).toBe('RESOURCE_EXHAUSTED');
      }
      if (format === 'openai') expect(limited[0]?.json.error.code).toBe('rate_limit_exceeded');
      const stats = sim.stats().byKey.k;
      expect(stats).toMatchObject({ requests: 7, byStatus: { '200': 4, '429': 3 }, maxWindowUse: 4 });
    } finally {
      await sim.close();
    }
  });

  it('a short window frees slots exactly when the hint says, and never holds more than rpm', async () => {
    const sim = await startSim({ windowMs: 300, limits: { w: { rpm: 3 } } });
    try {
      let accepted = 0;
      let waitedOnHint = 0;
      const deadline = Date.now() + 1200;
      while (Date.now() < deadline) {
        const r = await send(sim.url, 'gemini', 'w');
        if (r.status === 200) {
          accepted++;
          continue;
        }
        expect(r.status).toBe(429);
        const hint = retryHintMs('gemini', r);
        expect(hint).toBeGreaterThan(0);
        expect(hint).toBeLessThanOrEqual(300);
        // Waiting for the hinted delay is the behaviour under test: the next request must pass.
        await new Promise((resolve) => setTimeout(resolve, hint));
        expect((await send(sim.url, 'gemini', 'w')).status).toBe(200);
        accepted++;
        waitedOnHint++;
      }
      expect(waitedOnHint).toBeGreaterThan(0);
      expect(accepted).toBeGreaterThanOrEqual(9);
      expect(sim.stats().byKey.w?.maxWindowUse).toBe(3);
    } finally {
      await sim.close();
    }
  });

  it('a key|model limit wins for that model; other models use the key limit', async () => {
    const sim = await startSim({ limits: { k: { rpm: 10 }, 'k|sim-tight': { rpm: 1 } } });
    try {
      expect((await send(sim.url, 'gemini', 'k', 'sim-tight')).status).toBe(200);
      const second = await send(sim.url, 'gemini', 'k', 'sim-tight');
      expect(second.status).toBe(429);
      expect(second.json.error.details[0].violations[0].quotaId).toBe(
        'GenerateRequestsPerMinutePerProjectPerModel',
      );
      expect((await send(sim.url, 'gemini', 'k', 'sim-loose')).status).toBe(200);
      expect((await send(sim.url, 'gemini', 'other-key', 'sim-tight')).status).toBe(200);
      const s = sim.stats();
      expect(s.byKeyModel['k|sim-tight']).toMatchObject({ requests: 2, maxWindowUse: 1 });
      expect(s.byKey.k?.maxWindowUse).toBe(2);
    } finally {
      await sim.close();
    }
  });
});

describe('concurrency caps over HTTP', () => {
  it.each(FORMATS)('%s: in-flight beyond the cap → 429 with a hint', async (format) => {
    const sim = await startSim({ latencyMs: { min: 300, max: 300 }, limits: { c: { concurrency: 2 } } });
    try {
      const replies = await Promise.all(Array.from({ length: 5 }, () => send(sim.url, format, 'c')));
      expect(replies.filter((r) => r.status === 200)).toHaveLength(2);
      const limited = replies.filter((r) => r.status === 429);
      expect(limited).toHaveLength(3);
      for (const r of limited)
        expect(retryHintMs(format, r)).toBeLessThanOrEqual(format === 'chat' ? 1000 : 300);
      expect(sim.stats().byKey.c?.maxConcurrent).toBe(2);
      // Slots are free again once those finished.
      expect((await send(sim.url, format, 'c')).status).toBe(200);
    } finally {
      await sim.close();
    }
  });
});
