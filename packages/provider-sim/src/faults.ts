import type { SimConfig } from './state.js';

type Fault = 'http5xx' | 'reset' | 'hang' | 'noImage' | undefined;

export interface Draw {
  latencyMs: number;
  fault: Fault;
  /** A second uniform draw that picks between a fault's variants (e.g. 502 vs 503). */
  variant: number;
}

/**
 * Always three PRNG draws per request, whatever the outcome, so one seed replays the same
 * sequence even when limits or faults change which branch a request takes.
 */
export function drawOutcome(rng: () => number, config: SimConfig): Draw {
  const { min, max } = config.latencyMs;
  const latencyMs = min + (max - min) * rng();
  const u = rng();
  const variant = rng();
  let acc = 0;
  let fault: Fault;
  for (const name of ['http5xx', 'reset', 'hang', 'noImage'] as const) {
    acc += config.faults[name] ?? 0;
    if (u < acc) {
      fault = name;
      break;
    }
  }
  return { latencyMs, fault, variant };
}

/** Index of the first blocked word the prompt contains (case-insensitive), or -1. */
export function blockedWordIndex(prompt: string, words: string[]): number {
  const text = prompt.toLowerCase();
  return words.findIndex((w) => w.length > 0 && text.includes(w.toLowerCase()));
}
