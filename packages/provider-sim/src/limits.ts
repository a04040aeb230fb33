// Per-key (or per key+model) RPM as a true sliding window, plus in-flight concurrency caps.

export interface LimitRule {
  rpm?: number;
  concurrency?: number;
}
export type LimitTable = Record<string, LimitRule>;

export interface Denial {
  ok: false;
  kind: 'rpm' | 'concurrency';
  /** `${key}` or `${key}|${model}`: the bucket that refused. */
  scope: string;
  modelScoped: boolean;
  limit: number;
  /** How long until a retry can succeed (rpm: until the oldest request leaves the window). */
  retryAfterMs: number;
}

interface RpmStatus {
  limit: number;
  remaining: number;
  /** Until the window is empty again (OpenAI's "resets to its initial state"). */
  resetMs: number;
}

export interface Grant {
  ok: true;
  rpm?: RpmStatus;
  release(): void;
}

interface Scope {
  name: string;
  limit: number;
  modelScoped: boolean;
}

/**
 * Each limit field resolves on its own: a `${key}|${model}` entry wins over the `${key}`
 * entry for that model, so a key-wide rpm can coexist with a tighter per-model one.
 */
function resolve(limits: LimitTable, key: string, model: string, field: keyof LimitRule): Scope | undefined {
  const scoped = `${key}|${model}`;
  const m = limits[scoped]?.[field];
  if (m !== undefined) return { name: scoped, limit: m, modelScoped: true };
  const k = limits[key]?.[field];
  if (k !== undefined) return { name: key, limit: k, modelScoped: false };
  return undefined;
}

export class Limiter {
  /** Accepted-request timestamps per scope, ascending. */
  private windows = new Map<string, number[]>();
  /** In-flight requests per scope: token → expected end time (Infinity for a hang). */
  private inflight = new Map<string, Map<number, number>>();
  private nextToken = 1;

  acquire(
    limits: LimitTable,
    windowMs: number,
    key: string,
    model: string,
    now: number,
    expectedEnd: number,
  ): Grant | Denial {
    const rpm = resolve(limits, key, model, 'rpm');
    const conc = resolve(limits, key, model, 'concurrency');

    let window: number[] | undefined;
    if (rpm) {
      window = this.windows.get(rpm.name) ?? [];
      this.windows.set(rpm.name, window);
      // A request stays in the window while now - t < windowMs.
      while (window.length > 0 && (window[0] ?? 0) <= now - windowMs) window.shift();
      if (window.length >= rpm.limit) {
        const oldest = window[0];
        const retryAfterMs = oldest === undefined ? windowMs : oldest + windowMs - now;
        return this.deny('rpm', rpm, retryAfterMs);
      }
    }
    let running: Map<number, number> | undefined;
    if (conc) {
      running = this.inflight.get(conc.name) ?? new Map();
      this.inflight.set(conc.name, running);
      if (running.size >= conc.limit) {
        // Hint: when the first in-flight request is expected to finish (hangs never do).
        const ends = [...running.values()].filter(Number.isFinite);
        const retryAfterMs = ends.length ? Math.min(...ends) - now : 1000;
        return this.deny('concurrency', conc, retryAfterMs);
      }
    }

    window?.push(now);
    const token = this.nextToken++;
    running?.set(token, expectedEnd);
    let released = false;
    return {
      ok: true,
      rpm:
        rpm && window
          ? { limit: rpm.limit, remaining: Math.max(0, rpm.limit - window.length), resetMs: windowMs }
          : undefined,
      release: () => {
        if (released) return;
        released = true;
        running?.delete(token);
      },
    };
  }

  /** Forget the RPM history (between tests); in-flight requests stay counted until they end. */
  resetWindows(): void {
    this.windows.clear();
  }

  private deny(kind: Denial['kind'], scope: Scope, retryAfterMs: number): Denial {
    return {
      ok: false,
      kind,
      scope: scope.name,
      modelScoped: scope.modelScoped,
      limit: scope.limit,
      retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
    };
  }
}
