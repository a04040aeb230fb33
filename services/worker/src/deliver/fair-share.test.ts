import { describe, expect, it } from 'vitest';
import { FAST_MS, FairShare, IDLE_FORGET_MS } from './fair-share.js';

describe('FairShare', () => {
  it('lets one target hold at most `cap` slots while others still get theirs', () => {
    const share = new FairShare(2);
    const a1 = share.tryTake('slow', 0);
    const a2 = share.tryTake('slow', 1);
    expect(a1).not.toBeNull();
    expect(a2).not.toBeNull();
    expect(share.tryTake('slow', 2)).toBeNull();
    expect(share.tryTake('fast', 2)).not.toBeNull();
    share.release('slow', a1 as number, 50);
    expect(share.tryTake('slow', 3)).not.toBeNull();
  });

  it('defers about one attempt of the target: its average, or the age of a hanging attempt', () => {
    const share = new FairShare(1);
    const mid = () => 0.5;
    const t = share.tryTake('hook', 0) as number;
    expect(share.deferMs('hook', mid, 50)).toBe(100);
    expect(share.deferMs('hook', mid, 2_000)).toBe(2_000);
    expect(share.deferMs('hook', mid, 60_000)).toBe(5_000);
    share.release('hook', t, 800);
    expect(share.deferMs('hook', mid, 60_000)).toBe(800);
    expect(share.deferMs('hook', () => 0, 60_000)).toBe(400);
  });

  it('lets a target proven fast use free slots past the cap, until one of its attempts runs long', () => {
    const share = new FairShare(2);
    // New: capped until an attempt has answered.
    const t1 = share.tryTake('hook', 0) as number;
    share.tryTake('hook', 0);
    expect(share.tryTake('hook', 1)).toBeNull();
    share.release('hook', t1, 120);
    // Fast on average and nothing running long: past the cap.
    expect(share.tryTake('hook', 130)).not.toBeNull();
    expect(share.tryTake('hook', 131)).not.toBeNull();
    expect(share.inFlight('hook')).toBe(3);
    // Its oldest attempt (started at 0) has now run past FAST_MS: held to the cap again.
    expect(share.tryTake('hook', FAST_MS + 1)).toBeNull();
  });

  it('remembers a fast target through a pause in its traffic, and forgets it after IDLE_FORGET_MS', () => {
    const share = new FairShare(1);
    const t = share.tryTake('hook', 0) as number;
    share.release('hook', t, 20, 20);
    // Idle for a moment (nothing in flight): still known fast, so past the cap at once.
    expect(share.tryTake('hook', 1_000)).not.toBeNull();
    expect(share.tryTake('hook', 1_001)).not.toBeNull();
    share.release('hook', 1_000, 20, 1_020);
    share.release('hook', 1_001, 20, 1_021);
    // Idle for longer than IDLE_FORGET_MS: a new target again, capped until it answers.
    const later = 1_021 + IDLE_FORGET_MS + 1;
    expect(share.tryTake('hook', later)).not.toBeNull();
    expect(share.tryTake('hook', later + 1)).toBeNull();
  });
});
