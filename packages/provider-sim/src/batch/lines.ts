/**
 * @module The parts of a batch line both APIs share: drawing its outcome at job creation, and the
 * image bytes of its results (stable per job, line and index, so a second download is identical).
 */
import { blockedWordIndex } from '../faults.js';
import { imageLook } from '../image-directives.js';
import { makePng, padPng } from '../png.js';
import type { SimState } from '../state.js';
import type { LineOutcome, SimJob } from './jobs.js';

/** One PRNG draw per line whatever the outcome, so a seed replays the same job. */
export function drawLine(
  state: SimState,
  prompt: string,
  image: { width: number; height: number; n: number },
): LineOutcome {
  const u = state.rng();
  const word = blockedWordIndex(prompt, state.config.blockedWords);
  if (word >= 0) return { kind: 'blocked', wordIndex: word };
  if (u < state.config.batch.lineErrorRate) return { kind: 'serverError' };
  return { kind: 'image', ...image };
}

/** The PNG of image `index` of line `line` of a job; `[blank]`, `[duplicate:…]` and `[sim-pad:…]` apply. */
export function lineImage(job: SimJob, line: number, index: number): Buffer {
  const l = job.lines[line];
  if (l === undefined || l.outcome.kind !== 'image') throw new Error(`line ${line} has no image`);
  const look = imageLook(l.prompt);
  const variant = job.serial * 1_000_000 + line * 16 + index;
  return padPng(makePng(l.outcome.width, l.outcome.height, look.seed, variant, look.blank), look.padBytes);
}

/** A 503 drawn for any batch or files call (batch.http5xxRate), before the call does anything. */
export const drawsOutage = (state: SimState): boolean => state.rng() < state.config.batch.http5xxRate;
