/**
 * @module Fair sharing of one worker process's delivery slots between targets. A target (an endpoint,
 * or a batch's own webhook) holds at most `cap` of the process's delivery slots at once; a delivery
 * past that is put back as a delayed job instead of holding a slot while it waits, so a slow or
 * hanging receiver ties up at most `cap` slots and every other target keeps the rest. A target that
 * answers fast (its average attempt under FAST_MS, and no attempt of it running longer) is not held to
 * the cap: its slots come back within FAST_MS, so it may use whatever the process has free. What a
 * target's attempts took is remembered while it is idle for up to IDLE_FORGET_MS, so a fast target
 * whose queue empties for a moment is not capped (and its next deliveries put back) all over again.
 */

/** How long a delivery that found its target's slots full waits before trying again. */
const MIN_DEFER_MS = 100;
const MAX_DEFER_MS = 5_000;
/** Weight of the newest latency in a target's running average. */
const ALPHA = 0.3;
/** A target whose attempts take less than this is fast: its slots are never tied up for long. */
export const FAST_MS = 500;
/** An idle target is forgotten after this long: a new one starts capped until its first answers. */
export const IDLE_FORGET_MS = 60_000;

interface TargetState {
  inFlight: number;
  /** When each attempt holding a slot started (ms, monotonic). */
  started: number[];
  /** Running average of attempt latency (ms); the time a slot stays taken. */
  latencyMs: number | undefined;
  /** When its last attempt ended (ms, monotonic). */
  idleSince: number;
}

export class FairShare {
  private readonly targets = new Map<string, TargetState>();
  private lastSweep = 0;

  constructor(readonly cap: number) {
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`cap must be a positive integer, got ${cap}`);
  }

  /** Takes a slot for `target` (returns its ticket for `release`), or null when it already holds `cap`. */
  tryTake(target: string, now = performance.now()): number | null {
    this.forgetIdle(now);
    let s = this.targets.get(target);
    if (s === undefined) {
      s = { inFlight: 0, started: [], latencyMs: undefined, idleSince: now };
      this.targets.set(target, s);
    }
    if (s.inFlight >= this.cap && !this.isFast(s, now)) return null;
    s.inFlight += 1;
    s.started.push(now);
    return now;
  }

  /** Gives the slot back; `latencyMs` is how long the attempt took (undefined when none was made). */
  release(target: string, ticket: number, latencyMs?: number, now = performance.now()): void {
    const s = this.targets.get(target);
    if (s === undefined) return;
    s.inFlight = Math.max(0, s.inFlight - 1);
    const at = s.started.indexOf(ticket);
    if (at >= 0) s.started.splice(at, 1);
    if (latencyMs !== undefined)
      s.latencyMs = s.latencyMs === undefined ? latencyMs : s.latencyMs + ALPHA * (latencyMs - s.latencyMs);
    s.idleSince = now;
  }

  /** Drops targets idle for IDLE_FORGET_MS (swept at most once per second of use). */
  private forgetIdle(now: number): void {
    if (now - this.lastSweep < 1_000) return;
    this.lastSweep = now;
    for (const [key, s] of this.targets)
      if (s.inFlight === 0 && now - s.idleSince >= IDLE_FORGET_MS) this.targets.delete(key);
  }

  /**
   * How long a delivery refused a slot waits: about one attempt of that target (its average latency,
   * or longer while its oldest attempt still runs: a hanging receiver), within 0.1–5 s, with ±50 %
   * jitter so waiters do not return together.
   */
  deferMs(target: string, random: () => number = Math.random, now = performance.now()): number {
    const s = this.targets.get(target);
    const oldest = s?.started[0];
    const latency = Math.max(s?.latencyMs ?? 0, oldest === undefined ? 0 : now - oldest);
    const base = Math.min(MAX_DEFER_MS, Math.max(MIN_DEFER_MS, latency));
    return Math.round(base * (0.5 + random()));
  }

  /** Proven fast: a known average under FAST_MS and no attempt of it running for longer. */
  private isFast(s: TargetState, now: number): boolean {
    const oldest = s.started[0];
    return (
      s.latencyMs !== undefined && s.latencyMs < FAST_MS && (oldest === undefined || now - oldest < FAST_MS)
    );
  }

  inFlight(target: string): number {
    return this.targets.get(target)?.inFlight ?? 0;
  }
}
