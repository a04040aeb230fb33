import type { ModelRegistry, ModelSpec } from '@pixelmill/providers';
import { DEFAULT_WINDOW_MS, type Limiter, type ResourceLimits, resourceIdFor } from '@pixelmill/ratelimit';

/** One limited resource: a provider + model + API key. */
export interface KeyResource {
  id: string;
  apiKey: string;
}

/**
 * Resource ids name a key by a short hash, never by the key itself: Redis key names show up in
 * monitoring and in `KEYS` output. GET /v1/models shows the same hash (ratelimit's keyId).
 */
export function keyResources(registry: ModelRegistry, model: ModelSpec): KeyResource[] {
  const provider = registry.provider(model.provider);
  return [...new Set(provider?.apiKeys ?? [])].map((apiKey) => ({
    id: resourceIdFor(model.provider, model.id, apiKey),
    apiKey,
  }));
}

/**
 * The limiter counts whole requests per window. PIXELMILL_CONFIG allows fractions (rpm: 0.5); they
 * are kept exact by stretching the window instead of rounding the count: 0.5 per minute becomes 1
 * per 2 minutes. Returns the count and the window, and nothing for an undeclared limit.
 */
export function windowedLimits(
  limits: ModelSpec['limits'],
  windowMs: number,
): Pick<ResourceLimits, 'rpm' | 'ipm' | 'concurrency' | 'windowMs'> {
  const rates = [limits.rpm, limits.ipm].filter((v): v is number => v !== undefined);
  // The smallest multiple of the window (up to 60) that makes every declared rate a whole number.
  let stretch = 1;
  while (stretch < 60 && rates.some((r) => !Number.isInteger(Math.round(r * stretch * 1e6) / 1e6))) stretch++;
  const per = (rate: number | undefined) =>
    rate === undefined ? undefined : Math.max(1, Math.floor(rate * stretch + 1e-9));
  const rpm = per(limits.rpm);
  const ipm = per(limits.ipm);
  return {
    ...(rpm !== undefined ? { rpm } : {}),
    ...(ipm !== undefined ? { ipm } : {}),
    ...(limits.concurrency !== undefined ? { concurrency: limits.concurrency } : {}),
    windowMs: windowMs * stretch,
  };
}

/**
 * The limiter counts a request from the moment the worker sent it (ratelimit sent-2.lua); the
 * provider counts it when it arrives, a little later and not always by the same delay (a new
 * connection's handshake, network jitter, clocks). With a window used to the last slot, a request
 * that travels faster than the one it replaces arrives while that one is still inside the
 * provider's window: a 429. Our window is longer by this guard (0.25 %, at least 25 ms: 150 ms on a
 * minute) to absorb that.
 */
export function guardedWindowMs(windowMs: number): number {
  return windowMs + Math.max(25, Math.round(windowMs / 400));
}

/**
 * Grants on one key keep to one per window / (rpm × BURST) on average, two at most back to back
 * (the limiter's pacing, ratelimit includes/resource.lua): a full window's worth of requests sent in
 * one instant reaches the provider spread by jitter and collides with its window edge (and providers
 * such as OpenAI also enforce a fraction of the limit over shorter spans). Four times the average
 * rate lets a window's requests leave as fast as a key's concurrency allows (60 rpm, 4 in flight,
 * 0.5-2 s calls: about 20 s), so the last window of a batch ends soon after it opens; the sliding
 * window still caps the total (BENCHMARKS.md, issue 14).
 */
const BURST = 4;

/**
 * Writes every model's declared limits (per API key) to Redis, so all processes enforce the same
 * numbers; each worker does it at start-up. `windowMs` is the length of a "minute"
 * (PIXELMILL_RATE_WINDOW_MS; shorter only for tests and benchmarks against a fast simulator).
 */
export async function configureLimits(
  limiter: Limiter,
  registry: ModelRegistry,
  opts: { windowMs?: number } = {},
): Promise<void> {
  for (const model of registry.list()) {
    const limits = windowedLimits(model.limits, guardedWindowMs(opts.windowMs ?? DEFAULT_WINDOW_MS));
    for (const r of keyResources(registry, model))
      await limiter.configure({ id: r.id, ...limits, burst: BURST });
  }
}

/** Most images one call may ask for: the model's per-call maximum, never more than its ipm allows. */
export function imagesPerCall(model: ModelSpec): number {
  const { ipm } = windowedLimits(model.limits, DEFAULT_WINDOW_MS);
  return Math.max(1, Math.min(model.maxImagesPerCall, ipm ?? Number.POSITIVE_INFINITY));
}
