import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSim, startSim } from './index.js';
import { send } from './test-support/helpers.js';

/**
 * Calls waiting out their latency (or a hang) must not each hang a listener on one shared AbortSignal:
 * past 10 at once Node prints MaxListenersExceededWarning (seen in bench:webhooks with 16 provider
 * calls in flight), and a hang's listener must not outlive its connection.
 */
describe('many calls in flight at once', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  let sim: RunningSim | undefined;
  afterEach(async () => {
    process.off('warning', onWarning);
    await sim?.close();
  });

  it('24 calls waiting out their latency print no MaxListenersExceededWarning', async () => {
    process.on('warning', onWarning);
    sim = await startSim({ seed: 1, latencyMs: { min: 300, max: 300 } });
    const url = sim.url;
    const replies = await Promise.all(Array.from({ length: 24 }, (_, i) => send(url, 'gemini', `k${i}`)));
    expect(replies.map((r) => r.status)).toEqual(Array(24).fill(200));
    // 'warning' is emitted on the next tick after the listener that crossed the limit was added.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('a call in latency ends at once when the simulator closes', async () => {
    sim = await startSim({ seed: 1, latencyMs: { min: 60_000, max: 60_000 } });
    const started = performance.now();
    const reply = send(sim.url, 'gemini', 'k').catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sim.close();
    sim = undefined;
    await reply;
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
