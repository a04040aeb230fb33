import { describe, expect, it } from 'vitest';
import { UploadGate } from './upload-gate.js';

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => {
    done = true;
  });
  // Two microtask turns let an already-resolvable promise settle.
  await Promise.resolve();
  await Promise.resolve();
  return done;
};

describe('UploadGate', () => {
  it('is open below the byte cap and closes at it until bytes are released', async () => {
    const gate = new UploadGate(100);
    const a = gate.hold(60);
    expect(await settled(gate.ready())).toBe(true);
    const b = gate.hold(40);
    expect(gate.pendingBytes).toBe(100);
    const waiting = gate.ready();
    expect(await settled(waiting)).toBe(false);
    a();
    a(); // idempotent
    expect(gate.pendingBytes).toBe(40);
    expect(await settled(waiting)).toBe(true);
    b();
    expect(gate.pendingBytes).toBe(0);
  });

  it('holds new generations while any upload is retrying', async () => {
    const gate = new UploadGate(1_000_000);
    const first = gate.uploadRetrying();
    const second = gate.uploadRetrying();
    expect(gate.storageFailing).toBe(true);
    const waiting = gate.ready();
    first();
    expect(await settled(waiting)).toBe(false);
    second();
    expect(await settled(waiting)).toBe(true);
    expect(gate.storageFailing).toBe(false);
  });
});
