/**
 * @module When a batch in mode `auto` must leave the economy lane: once its deadline (`expires_at`)
 * minus the realtime makespan estimate for what is still open is reached, everything not yet back
 * moves to realtime. The estimate comes from the limiter's live state of the model (AIMD rate of each
 * key still in rotation, its images-per-minute cap, its concurrency over an assumed call duration
 * WORKER_AUTO_CALL_MS), plus a margin for the last calls in flight (WORKER_AUTO_MARGIN_MS).
 */
import type { BatchSpec } from '@pixelmill/core';
import type { ModelSpec } from '@pixelmill/providers';
import { type ModelLimitState, readLimitStates } from '@pixelmill/ratelimit';
import type { WorkerDeps } from '../deps.js';

/** Default margin: one slow realtime call and its upload. */
const DEFAULT_AUTO_MARGIN_MS = 120_000;

/** Default duration of one realtime call with its upload (providers.md §7: ~30 s typical at 4K). */
const DEFAULT_AUTO_CALL_MS = 30_000;

/**
 * Requests the model's keys can take per window right now, and the window: per key still in rotation,
 * the lower of its AIMD rate (capped by images per minute) and what its concurrency allows with calls
 * of `callMs`; from the live state, else the registry's declared limits.
 */
export function realtimeRate(
  model: ModelSpec,
  keys: number,
  state: ModelLimitState | undefined,
  callMs = DEFAULT_AUTO_CALL_MS,
) {
  let perWindow = 0;
  let windowMs = 60_000;
  const rateOf = (
    rpm: number | null | undefined,
    ipm: number | null | undefined,
    concurrency: number | null | undefined,
  ) =>
    Math.min(
      rpm ?? Number.POSITIVE_INFINITY,
      ipm ?? Number.POSITIVE_INFINITY,
      ((concurrency ?? 4) * windowMs) / callMs,
    );
  for (const key of state?.keys ?? []) {
    if (key.revoked !== null || key.state === null) continue;
    windowMs = key.state.windowMs;
    const d = key.state.declared;
    perWindow += rateOf(key.state.effectiveRpm ?? d.rpm, d.ipm, d.concurrency);
  }
  if (perWindow === 0) {
    // No worker has written the limits yet: the declared ones, per key.
    perWindow = Math.max(1, keys) * rateOf(model.limits.rpm, model.limits.ipm, model.limits.concurrency);
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
  const callMs = deps.options.economy?.autoCallMs ?? DEFAULT_AUTO_CALL_MS;
  return deadline - makespanEstimateMs(openImages, realtimeRate(model, keys, state, callMs), margin) - now;
}
