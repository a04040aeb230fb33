import { describe, expect, it } from 'vitest';
import { createSimApp } from './app.js';
import { type RunningSim, type SimOptions, startSim } from './index.js';
import { type Format, geminiBody, type Reply, send, until } from './test-support/helpers.js';

async function withSim<T>(opts: SimOptions, fn: (sim: RunningSim) => Promise<T>): Promise<T> {
  const sim = await startSim(opts);
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

/** A short label per reply, to compare whole runs. */
function label(format: Format, r: Reply): string {
  if (r.status !== 200) return String(r.status);
  if (format === 'gemini') {
    const c = r.json.candidates?.[0];
    // biome-ignore lint/suspicious/noExplicitAny: response JSON
    const image = c?.content?.parts?.some((p: any) => p.inlineData && !p.thought);
    return image ? 'image' : `noimage:${c?.finishReason}`;
  }
  if (format === 'openai') return r.json.data.length ? 'image' : 'noimage';
  const msg = r.json.choices[0];
  return msg.message.images ? 'image' : `noimage:${msg.native_finish_reason}`;
}

async function run(seed: number, format: Format, n = 30): Promise<string[]> {
  const opts = { seed, faults: { http5xx: 0.25, noImage: 0.25 }, latencyMs: { min: 0, max: 3 } };
  return withSim(opts, async (sim) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(label(format, await send(sim.url, format, 'k')));
    return out;
  });
}

describe('seeded faults', () => {
  it('the same seed replays the same outcomes; another seed differs', async () => {
    const a = await run(42, 'gemini');
    expect(await run(42, 'gemini')).toEqual(a);
    expect(await run(43, 'gemini')).not.toEqual(a);
    expect(new Set(a)).toEqual(new Set(['image', '503', 'noimage:NO_IMAGE', 'noimage:STOP']));
  });

  it('openai: 5xx is 500 server_error, noImage is an empty data[]', async () => {
    const a = await run(42, 'openai');
    expect(new Set(a)).toEqual(new Set(['image', '500', 'noimage']));
  });

  it('chat: 5xx is 502 or 503, noImage is text only', async () => {
    const a = await run(42, 'chat');
    expect(new Set(a)).toEqual(new Set(['image', '502', '503', 'noimage:NO_IMAGE', 'noimage:STOP']));
  });

  it('5xx bodies use each provider error shape', async () => {
    await withSim({ faults: { http5xx: 1 } }, async (sim) => {
      const g = await send(sim.url, 'gemini', 'k');
      expect(g.json.error).toMatchObject({
        code: 503,
        status: 'UNAVAILABLE',
        message: 'The model is overloaded. Please try again later.',
      });
      expect((await send(sim.url, 'openai', 'k')).json.error.type).toBe('server_error');
      expect((await send(sim.url, 'chat', 'k')).json.error.code).toBeGreaterThanOrEqual(502);
    });
  });

  it('latency delays the answer', async () => {
    await withSim({ latencyMs: { min: 120, max: 120 } }, async (sim) => {
      const started = performance.now();
      expect((await send(sim.url, 'openai', 'k')).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    });
  });
});

describe('connection faults', () => {
  it('reset destroys the socket', async () => {
    await withSim({ faults: { reset: 1 } }, async (sim) => {
      await expect(send(sim.url, 'gemini', 'k')).rejects.toThrow();
      expect(sim.stats().byStatus).toEqual({ reset: 1 });
    });
  });

  it('hang never answers; the slot frees when the client gives up', async () => {
    await withSim({ faults: { hang: 1 }, limits: { k: { concurrency: 1 } } }, async (sim) => {
      const url = `${sim.url}/v1beta/models/sim-a:generateContent`;
      const init = {
        method: 'POST',
        headers: { 'x-goog-api-key': 'k' },
        body: JSON.stringify(geminiBody('p')),
      };
      await expect(fetch(url, { ...init, signal: AbortSignal.timeout(150) })).rejects.toThrow();
      expect(sim.stats().byKey.k?.byStatus).toEqual({ hang: 1 });
      // After the abort the concurrency slot is released: the next request hangs instead of a 429.
      await until(async () => {
        const r = await fetch(url, { ...init, signal: AbortSignal.timeout(100) }).catch(() => undefined);
        return r === undefined;
      });
    });
  });

  it('close() ends hanging requests promptly', async () => {
    const sim = await startSim({ faults: { hang: 1 } });
    const pending = send(sim.url, 'openai', 'k');
    await until(async () => sim.stats().byStatus.hang === 1);
    // close() must not wait for the hanging request: it resolves, and the client sees the socket end.
    await sim.close();
    await expect(pending).rejects.toThrow();
  });

  it('in-process: a reset rejects app.request, other requests work', async () => {
    const { app } = createSimApp({ faults: { reset: 1 } });
    const req = { method: 'POST', headers: { 'x-goog-api-key': 'k' }, body: JSON.stringify(geminiBody('p')) };
    await expect(app.request('/v1beta/models/sim-a:generateContent', req)).rejects.toThrow(/reset/);
    const ok = createSimApp().app;
    const res = await ok.request('/v1beta/models/sim-a:generateContent', req);
    expect(res.status).toBe(200);
  });
});
