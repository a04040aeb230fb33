// What the simulator saw: tests and benchmarks assert on it through /__stats.

export interface KeyStats {
  requests: number;
  /** HTTP status → count; dropped connections are counted as "reset" and "hang". */
  byStatus: Record<string, number>;
  /** Most accepted requests ever seen inside one windowMs span (exact, sliding). */
  maxWindowUse: number;
  /** Most requests in flight at once after passing the limiter. */
  maxConcurrent: number;
}

export interface SimStats {
  requests: number;
  byStatus: Record<string, number>;
  byKey: Record<string, KeyStats>;
  /** Same, keyed by `${key}|${model}` with the model id as the client sent it. */
  byKeyModel: Record<string, KeyStats>;
  /** Prompt text → requests that returned at least one image. */
  successesByPrompt: Record<string, number>;
  /** Final images returned (an OpenAI request with n=4 adds 4; thought images excluded). */
  images: number;
  /** Model listings per key (a client checking its key at no cost), and how many were refused. */
  keyChecks: Record<string, { requests: number; refused: number }>;
}

export interface Outcome {
  key?: string;
  model?: string;
  prompt?: string;
  status: string;
  images: number;
}

const emptyKey = (): KeyStats => ({ requests: 0, byStatus: {}, maxWindowUse: 0, maxConcurrent: 0 });
function entry(table: Record<string, KeyStats>, name: string): KeyStats {
  const found = table[name];
  if (found) return found;
  const created = emptyKey();
  table[name] = created;
  return created;
}
const MAX_ARRIVALS = 100_000;
const bump = (rec: Record<string, number>, k: string, by = 1): void => {
  rec[k] = (rec[k] ?? 0) + by;
};

export class StatsRecorder {
  private s: SimStats = StatsRecorder.empty();
  /** Accepted timestamps per stats key within the last window, for maxWindowUse. */
  private recent = new Map<string, number[]>();
  /** When each request reached the limiter, per key (capped), for benchmarks' per-request profiles. */
  private arrivalsByKey = new Map<string, Array<{ t: number; ok: boolean }>>();
  /** Live in-flight counts; kept across reset() because those requests are still running. */
  private live = new Map<string, number>();

  private static empty(): SimStats {
    return {
      requests: 0,
      byStatus: {},
      byKey: {},
      byKeyModel: {},
      successesByPrompt: {},
      images: 0,
      keyChecks: {},
    };
  }

  private entries(key: string, model?: string): Array<[string, KeyStats]> {
    const out: Array<[string, KeyStats]> = [[key, entry(this.s.byKey, key)]];
    if (model !== undefined) {
      const name = `${key}|${model}`;
      out.push([name, entry(this.s.byKeyModel, name)]);
    }
    return out;
  }

  /** One finished request (any status). */
  record(o: Outcome): void {
    this.s.requests++;
    bump(this.s.byStatus, o.status);
    if (o.key !== undefined) {
      for (const [, e] of this.entries(o.key, o.model)) {
        e.requests++;
        bump(e.byStatus, o.status);
      }
    }
    if (o.images > 0) {
      this.s.images += o.images;
      if (o.prompt !== undefined) bump(this.s.successesByPrompt, o.prompt);
    }
  }

  /** A model listing with this key (not an image call: no limit, no latency). */
  keyCheck(key: string, refused: boolean): void {
    const e = this.s.keyChecks[key] ?? { requests: 0, refused: 0 };
    this.s.keyChecks[key] = e;
    e.requests++;
    if (refused) e.refused++;
  }

  /** A request passed the limiter: update the exact sliding-window maximum. */
  accepted(key: string, model: string, now: number, windowMs: number): void {
    for (const [name, e] of this.entries(key, model)) {
      const list = this.recent.get(name) ?? [];
      this.recent.set(name, list);
      while (list.length > 0 && (list[0] ?? 0) <= now - windowMs) list.shift();
      list.push(now);
      e.maxWindowUse = Math.max(e.maxWindowUse, list.length);
    }
  }

  /** A request reached the limiter at `t` (epoch ms); `ok` is whether it was admitted. */
  arrival(key: string, t: number, ok: boolean): void {
    const list = this.arrivalsByKey.get(key) ?? [];
    this.arrivalsByKey.set(key, list);
    if (list.length < MAX_ARRIVALS) list.push({ t, ok });
  }

  arrivals(): Record<string, Array<{ t: number; ok: boolean }>> {
    return Object.fromEntries(this.arrivalsByKey);
  }

  /** Track in-flight requests; returns the function that ends this one. */
  started(key: string, model: string): () => void {
    const names = [key, `${key}|${model}`];
    for (const name of names) {
      const n = (this.live.get(name) ?? 0) + 1;
      this.live.set(name, n);
      const e = name === key ? this.s.byKey[key] : this.s.byKeyModel[name];
      if (e) e.maxConcurrent = Math.max(e.maxConcurrent, n);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const name of names) this.live.set(name, Math.max(0, (this.live.get(name) ?? 1) - 1));
    };
  }

  snapshot(): SimStats {
    return structuredClone(this.s);
  }

  reset(): void {
    this.s = StatsRecorder.empty();
    this.recent.clear();
    this.arrivalsByKey.clear();
  }
}
