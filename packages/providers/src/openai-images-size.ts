/**
 * Size tier + aspect ratio → the `size` string of the OpenAI Images API (providers.md §4).
 * GPT image 1.x models take three fixed sizes; gpt-image-2 and later take any WxH with sides that are
 * multiples of 16, a long/short ratio ≤ 3, a long side ≤ 3840 and 655,360–8,294,400 pixels.
 * @module
 */
import type { Size } from './types.js';

export type OpenAiSizeMode = 'fixed' | 'flexible';

const MIN_PIXELS = 655_360;
const MAX_PIXELS = 8_294_400; // 3840 × 2160
const MAX_SIDE = 3840;
const MAX_RATIO = 3;
/** Long side per tier; 512 is not offered by GPT image models and is served as 1K if ever asked. */
const LONG_SIDE: Record<Size, number> = { '512': 1024, '1K': 1024, '2K': 2048, '4K': 3840 };

const FIXED_SIZES = [
  { ratio: 1, size: '1024x1024' },
  { ratio: 1.5, size: '1536x1024' },
  { ratio: 2 / 3, size: '1024x1536' },
];

/** gpt-image-1 family (and the moving chatgpt-image-latest alias, to be safe) only accept fixed sizes. */
export function openAiSizeMode(upstreamModel: string): OpenAiSizeMode {
  return /^(gpt-image-1(?![0-9])|chatgpt-image|dall-e)/.test(upstreamModel) ? 'fixed' : 'flexible';
}

/** "W:H" → width/height, or undefined when unparsable. */
function parseAspectRatio(aspect: string | undefined): number | undefined {
  const match = aspect === undefined ? null : /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(aspect.trim());
  if (match === null) return undefined;
  const ratio = Number(match[1]) / Number(match[2]);
  return Number.isFinite(ratio) && ratio > 0 ? ratio : undefined;
}

/**
 * Without an aspect ratio, fixed-size models get `auto` (the model picks; all their sizes are ~1K
 * anyway) while flexible models get a square at the requested tier, so a 4K order is still 4K.
 */
export function openAiImageSize(mode: OpenAiSizeMode, size: Size, aspectRatio: string | undefined): string {
  const ratio = parseAspectRatio(aspectRatio);
  if (mode === 'fixed') {
    if (ratio === undefined) return 'auto';
    // Closest ratio in log space: 6:5 → square, 5:4 and 4:3 → 1536x1024.
    const best = FIXED_SIZES.reduce((a, b) =>
      Math.abs(Math.log(b.ratio / ratio)) < Math.abs(Math.log(a.ratio / ratio)) ? b : a,
    );
    return best.size;
  }
  return flexibleSize(LONG_SIDE[size], ratio ?? 1);
}

function flexibleSize(longSide: number, rawRatio: number): string {
  const ratio = Math.min(MAX_RATIO, Math.max(1 / MAX_RATIO, rawRatio));
  let w = ratio >= 1 ? longSide : longSide * ratio;
  let h = ratio >= 1 ? longSide / ratio : longSide;
  let round = nearest16;
  const pixels = w * h;
  if (pixels > MAX_PIXELS) {
    const k = Math.sqrt(MAX_PIXELS / pixels);
    [w, h, round] = [w * k, h * k, floor16];
  } else if (pixels < MIN_PIXELS) {
    const k = Math.sqrt(MIN_PIXELS / pixels);
    [w, h, round] = [w * k, h * k, ceil16];
  }
  let W = Math.min(MAX_SIDE, round(w));
  let H = Math.min(MAX_SIDE, round(h));
  // Rounding can still leave us a step outside the bounds; walk back in 16 px steps.
  while (W * H > MAX_PIXELS) {
    if (W >= H) W -= 16;
    else H -= 16;
  }
  while (W * H < MIN_PIXELS) {
    if (W <= H) W += 16;
    else H += 16;
  }
  return `${W}x${H}`;
}

const nearest16 = (v: number) => Math.max(16, Math.round(v / 16) * 16);
const floor16 = (v: number) => Math.max(16, Math.floor(v / 16) * 16);
const ceil16 = (v: number) => Math.max(16, Math.ceil(v / 16) * 16);
