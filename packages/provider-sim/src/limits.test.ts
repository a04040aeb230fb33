import { describe, expect, it } from 'vitest';
import { type Denial, type Grant, Limiter } from './limits.js';

const WINDOW = 1000;

describe('Limiter (fake clock)', () => {
  it('is a true sliding window: a slot frees exactly when the oldest request leaves', () => {
    const l = new Limiter();
    const limits = { k: { rpm: 3 } };
    for (const t of [0, 100, 200]) expect(l.acquire(limits, WINDOW, 'k', 'm', t, t).ok).toBe(true);
    const d = l.acquire(limits, WINDOW, 'k', 'm', 500, 500) as Denial;
    expect(d).toMatchObject({ ok: false, kind: 'rpm', limit: 3, retryAfterMs: 500, modelScoped: false });
    // Denied requests are not counted: at t=999 the window still holds exactly 3.
    expect(l.acquire(limits, WINDOW, 'k', 'm', 999, 999).ok).toBe(false);
    expect(l.acquire(limits, WINDOW, 'k', 'm', 1000, 1000).ok).toBe(true);
    expect(l.acquire(limits, WINDOW, 'k', 'm', 1050, 1050).ok).toBe(false);
    expect(l.acquire(limits, WINDOW, 'k', 'm', 1100, 1100).ok).toBe(true);
  });

  it('lets a key|model field win over the key field, each with its own window', () => {
    const l = new Limiter();
    const limits = { k: { rpm: 1 }, 'k|fast': { rpm: 2 } };
    expect(l.acquire(limits, WINDOW, 'k', 'fast', 0, 0).ok).toBe(true);
    expect(l.acquire(limits, WINDOW, 'k', 'fast', 1, 1).ok).toBe(true);
    expect(l.acquire(limits, WINDOW, 'k', 'fast', 2, 2)).toMatchObject({
      ok: false,
      modelScoped: true,
      scope: 'k|fast',
    });
    expect(l.acquire(limits, WINDOW, 'k', 'slow', 3, 3).ok).toBe(true);
    expect(l.acquire(limits, WINDOW, 'k', 'other', 4, 4)).toMatchObject({ ok: false, scope: 'k' });
    expect(l.acquire(limits, WINDOW, 'unlimited', 'x', 5, 5).ok).toBe(true);
  });

  it('caps concurrency and hints at the earliest expected finish', () => {
    const l = new Limiter();
    const limits = { k: { concurrency: 2 } };
    const a = l.acquire(limits, WINDOW, 'k', 'm', 0, 300) as Grant;
    const b = l.acquire(limits, WINDOW, 'k', 'm', 0, 200) as Grant;
    expect(l.acquire(limits, WINDOW, 'k', 'm', 50, 50)).toMatchObject({
      ok: false,
      kind: 'concurrency',
      retryAfterMs: 150,
    });
    b.release();
    b.release(); // idempotent
    expect(l.acquire(limits, WINDOW, 'k', 'm', 60, 60).ok).toBe(true);
    a.release();
  });

  it('reports OpenAI-style remaining requests', () => {
    const l = new Limiter();
    const g = l.acquire({ k: { rpm: 5 } }, WINDOW, 'k', 'm', 0, 0) as Grant;
    expect(g.rpm).toEqual({ limit: 5, remaining: 4, resetMs: WINDOW });
  });
});
