/**
 * @module When a batch in mode `auto` must leave the economy lane: once its deadline (`expires_at`)
 * minus the realtime makespan estimate for what is still open is reached, everything not yet back
 * moves to realtime. The estimate comes from the limiter's live state of the model (AIMD rate of each
 * key still in rotation, its images-per-minute cap), plus a margin for the last calls in flight.
 */
import type { BatchSpec } from '@pixelmill/core';
import type { ModelSpec } from '@pixelmill/providers';
import { type ModelLimitState, readLimitStates } from '@pixelmill/ratelimit';
import type { WorkerDeps } from '../deps.js';

/** Default margin: one slow realtime call and its upload. */
export const DEFAULT_AUTO_MARGIN_MS = 120_000;

/** Requests the model's keys can take per window right now, and the window; from the live state, else the registry. */
export function realtimeRate(model: ModelSpec, keys: number, state: ModelLimitState | undefined) {
  let perWindow = 0;
  let windowMs = 60_000;
  const live = state?.keys.filter((k) => k.revoked === null) ?? [];
  for (const key of live) {
    if (key.state === null) continue;
    windowMs = key.state.windowMs;
    const rpm = key.state.effectiveRpm ?? key.state.declared.rpm ?? Number.POSITIVE_INFINITY;
    const ipm = key.state.declared.ipm ?? Number.POSITIVE_INFINITY;
    const rate = Math.min(rpm, ipm);
    perWindow += Number.isFinite(rate) ? rate : (key.state.declared.concurrency ?? 4) * 2;
  }
  if (perWindow === 0) {
    // No worker has written the limits yet: the declared ones, per key.
    const declared = Math.min(
      model.limits.rpm ?? Number.POSITIVE_INFINITY,
      model.limits.ipm ?? Number.POSITIVE_INFINITY,
    );
    perWindow =
      Math.max(1, keys) * (Number.isFinite(declared) ? declared : (model.limits.concurrency ?? 4) * 2);
  }
  return { perWindow, windowMs };
}

/** Time the realtime lane needs for `images` images at that rate, plus the margin. */
export function makespanEstimateMs(
  images: number,
  rate: { perWindow: number; windowMs: number },
  marginMs: number,
) {
  return (images / Math.max(rate.perWindow, 1e-9)) * rate.windowMs + marginMs;
}

/**
 * Mode auto: ms until the batch must move to the realtime lane (≤ 0: now); undefined in any other
 * mode or without a deadline (auto without `expires_at` stays in economy).
 */
export async function autoSwitchInMs(
  deps: WorkerDeps,
  spec: BatchSpec,
  model: ModelSpec,
  openImages: number,
  now = Date.now(),
): Promise<number | undefined> {
  if (spec.mode !== 'auto' || !spec.expires_at) return undefined;
  const deadline = Date.parse(spec.expires_at);
  let state: ModelLimitState | undefined;
  try {
    state = (await readLimitStates(deps.redis, deps.queues.prefix, deps.registry)).find(
      (s) => s.model === model.id,
    );
  } catch {
    state = undefined; // the declared limits then
  }
  const keys = deps.registry.provider(model.provider)?.apiKeys.length ?? 1;
  const margin = deps.options.economy?.autoMarginMs ?? DEFAULT_AUTO_MARGIN_MS;
  return deadline - makespanEstimateMs(openImages, realtimeRate(model, keys, state), margin) - now;
}
