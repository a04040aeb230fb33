import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { type KeyLimitState, type ModelLimitState, readLimitStates } from '@pixelmill/ratelimit';
import type { AppDeps } from '../deps.js';
import { jsonResponse, v1Errors } from '../openapi/responses.js';
import { ModelListSchema } from '../openapi/schemas.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** One API key's shared limit state; the key appears only as its short hash. */
function presentKey({ keyId, state, revoked }: KeyLimitState) {
  // Out of rotation for every model of the provider until the mark lapses (docs/reliability.md).
  const revocation = {
    revoked: revoked !== null,
    revoked_until: revoked === null ? null : iso(revoked.until),
  };
  if (state === null) return { key_id: keyId, configured: false, ...revocation };
  const parked = state.parkedUntil !== null;
  return {
    key_id: keyId,
    configured: true,
    window_ms: state.windowMs,
    rpm: state.declared.rpm,
    effective_rpm: state.effectiveRpm,
    ipm: state.declared.ipm,
    concurrency: state.declared.concurrency,
    in_flight: state.inFlight,
    requests_in_window: state.inWindow,
    images_in_window: state.imagesInWindow,
    cooldown_until: iso(state.cooldownUntil),
    parked,
    parked_until: typeof state.parkedUntil === 'number' ? iso(state.parkedUntil) : null,
    ...revocation,
  };
}

function presentLimits(state: ModelLimitState | undefined) {
  if (state === undefined) return null;
  return { circuit: state.circuit, keys: state.keys.map(presentKey) };
}

export function modelRoutes(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/models',
      operationId: 'listModels',
      tags: ['models'],
      summary: 'Models, their sizes, prices, declared limits and current rate-limit state',
      responses: { 200: jsonResponse('The model registry', ModelListSchema), ...v1Errors },
    }),
    async (c) => {
      // The same read the metrics use; without Redis the static part is still useful.
      let states: Map<string, ModelLimitState> | undefined;
      try {
        const list = await readLimitStates(deps.redis, deps.queues.prefix, deps.registry);
        states = new Map(list.map((s) => [s.model, s]));
      } catch (err) {
        deps.logger.warn({ err }, 'could not read rate-limit state for GET /v1/models');
      }
      const data = deps.registry.list().map((m) => ({
        id: m.id,
        object: 'model',
        aliases: m.aliases,
        provider: m.provider,
        kind: m.kind,
        available: deps.registry.available(m),
        sizes: m.sizes,
        aspect_ratios: m.aspectRatios,
        max_reference_images: m.maxReferenceImages,
        price_usd: m.priceUsd,
        economy: m.economy,
        batch_price_usd: m.batchPriceUsd,
        limits: m.limits,
        timeout_s: m.timeoutMs / 1000,
        fallback: m.fallback,
        rate_limits: presentLimits(states?.get(m.id)),
      }));
      return c.json({ object: 'list', data }, 200);
    },
  );
  return app;
}
