// Simulator control endpoints (not part of any provider's API; never counted in stats).
import type { Hono } from 'hono';
import { progressOf } from './batch/jobs.js';
import { json, type SimEnv } from './pipeline.js';
import { applyConfig, type SimState } from './state.js';

export function registerAdmin(app: Hono<SimEnv>, state: SimState): void {
  app.get('/__health', () => json({ ok: true }, 200));
  app.get('/__stats', () => json(state.stats.snapshot(), 200));
  app.get('/__arrivals', () => json(state.stats.arrivals(), 200));
  app.post('/__reset', () => {
    resetState(state);
    return json({ ok: true }, 200);
  });
  // Hosted-URL style chat responses point here (like a proxy's object storage).
  app.get('/__files/:file', (c) => {
    const png = state.files.get(c.req.param('file').replace(/\.png$/, ''));
    if (!png) return json({ error: 'not found' }, 404);
    return new Response(new Uint8Array(png), {
      headers: { 'content-type': 'image/png', 'content-length': String(png.length) },
    });
  });
  // Every batch job of both APIs (tests count submissions and find jobs by name or metadata).
  app.get('/__batches', () =>
    json(
      [...state.batches.jobs.values()].map((j) => ({
        id: j.id,
        provider: j.provider,
        owner: j.owner,
        model: j.model,
        display_name: j.displayName,
        metadata: j.metadata,
        lines: j.lines.length,
        reference_images: j.lines.reduce((sum, l) => sum + l.references, 0),
        phase: progressOf(j, state.now()).phase,
      })),
      200,
    ),
  );
  // Change faults, latency, limits, depleted or revoked keys or block words while running (e2e tests).
  app.get('/__config', () => json(state.config, 200));
  app.post('/__config', async (c) => {
    try {
      state.config = applyConfig(state.config, (await c.req.json()) as Parameters<typeof applyConfig>[1]);
      return json(state.config, 200);
    } catch (err) {
      return json({ error: err instanceof Error ? err.message : String(err) }, 400);
    }
  });
}

/** Clear stats and RPM history; in-flight requests keep counting until they end. */
export function resetState(state: SimState): void {
  state.stats.reset();
  state.limiter.resetWindows();
}
