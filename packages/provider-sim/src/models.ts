// Model catalogue and output-size rules, from providers.md §1, §2 and §4.

export type GeminiSize = '512' | '1K' | '2K' | '4K';
export interface Dims {
  width: number;
  height: number;
}

const RATIOS_10 = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'];
const RATIOS_14 = [...RATIOS_10, '1:4', '4:1', '1:8', '8:1'];

export interface GeminiModel {
  id: string;
  sizes: GeminiSize[];
  ratios: string[];
  /** Output tokens per image by size (providers.md table; [unv] rows derived from price). */
  tokens: Partial<Record<GeminiSize, number>>;
  inputImageTokens: number;
  /** Gemini 3 models "think": responses carry thought parts before the answer. */
  thinks: boolean;
  /** gemini-3-pro-image also emits an interim thought image, which clients must skip. */
  thoughtImage: boolean;
  /** gemini-2.5-flash-image has a fixed 1K pixel table instead of the long-side rule. */
  fixedTable: boolean;
}

const FLASH_TOKENS = { '512': 747, '1K': 1120, '2K': 1680, '4K': 2520 } as const;

const GEMINI: GeminiModel[] = [
  {
    id: 'gemini-2.5-flash-image',
    sizes: ['1K'],
    ratios: RATIOS_10,
    tokens: { '1K': 1290 },
    inputImageTokens: 258,
    thinks: false,
    thoughtImage: false,
    fixedTable: true,
  },
  {
    id: 'gemini-3-pro-image',
    sizes: ['1K', '2K', '4K'],
    ratios: RATIOS_10,
    tokens: { '1K': 1120, '2K': 1120, '4K': 2000 },
    inputImageTokens: 560,
    thinks: true,
    thoughtImage: true,
    fixedTable: false,
  },
  {
    id: 'gemini-3.1-flash-image',
    sizes: ['512', '1K', '2K', '4K'],
    ratios: RATIOS_14,
    tokens: FLASH_TOKENS,
    inputImageTokens: 1120,
    thinks: true,
    thoughtImage: false,
    fixedTable: false,
  },
  {
    // Token counts [unv]: price per image ÷ $30/M (0.0336, 0.0504, 0.113).
    id: 'gemini-nano-banana-2.1',
    sizes: ['1K', '2K', '4K'],
    ratios: RATIOS_14,
    tokens: { '1K': 1120, '2K': 1680, '4K': 3767 },
    inputImageTokens: 1120,
    thinks: true,
    thoughtImage: false,
    fixedTable: false,
  },
  {
    id: 'gemini-3.1-flash-lite-image',
    sizes: ['1K'],
    ratios: RATIOS_10,
    tokens: { '1K': 1120 },
    inputImageTokens: 1120,
    thinks: false,
    thoughtImage: false,
    fixedTable: false,
  },
];

export const GEMINI_MODEL_IDS = GEMINI.map((m) => m.id);

/** Known Gemini image model, or a permissive generic one for ids starting with "sim-". */
export function geminiModel(id: string): GeminiModel | undefined {
  const known = GEMINI.find((m) => m.id === id);
  if (known) return known;
  if (!id.startsWith('sim-')) return undefined;
  return {
    id,
    sizes: ['512', '1K', '2K', '4K'],
    ratios: RATIOS_14,
    tokens: FLASH_TOKENS,
    inputImageTokens: 1120,
    thinks: false,
    thoughtImage: false,
    fixedTable: false,
  };
}

const TABLE_25: Record<string, Dims> = {
  '1:1': { width: 1024, height: 1024 },
  '2:3': { width: 832, height: 1248 },
  '3:2': { width: 1248, height: 832 },
  '3:4': { width: 864, height: 1184 },
  '4:3': { width: 1184, height: 864 },
  '4:5': { width: 896, height: 1152 },
  '5:4': { width: 1152, height: 896 },
  '9:16': { width: 768, height: 1344 },
  '16:9': { width: 1344, height: 768 },
  '21:9': { width: 1536, height: 672 },
};

const LONG_SIDE: Record<GeminiSize, number> = { '512': 512, '1K': 1024, '2K': 2048, '4K': 4096 };

function ratioValue(ratio: string): number {
  const [a, b] = ratio.split(':').map(Number);
  return (a ?? 1) / (b ?? 1);
}

const round16 = (x: number): number => Math.max(16, Math.round(x / 16) * 16);

/** Without aspectRatio the model "picks from the references": the nearest supported ratio. */
export function nearestRatio(ratios: string[], aspect: number): string {
  let best = '1:1';
  let bestErr = Number.POSITIVE_INFINITY;
  for (const r of ratios) {
    const err = Math.abs(Math.log(ratioValue(r) / aspect));
    if (err < bestErr) [best, bestErr] = [r, err];
  }
  return best;
}

/** Gemini output pixels: long side from imageSize, short side from the ratio, multiples of 16. */
export function geminiDims(model: GeminiModel, ratio: string, size: GeminiSize): Dims {
  if (model.fixedTable) return TABLE_25[ratio] ?? { width: 1024, height: 1024 };
  const long = LONG_SIDE[size];
  const v = ratioValue(ratio);
  return v >= 1 ? { width: long, height: round16(long / v) } : { width: round16(long * v), height: long };
}

/** `[sim:WxH]` in a prompt forces the exact output size (tests use it for cheap images). */
export function sizeDirective(prompt: string): Dims | undefined {
  const m = /\[sim:(\d{1,5})x(\d{1,5})\]/i.exec(prompt);
  if (!m) return undefined;
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (width < 1 || height < 1 || width > 8192 || height > 8192) return undefined;
  return { width, height };
}

// ---- OpenAI Images ----

export interface OpenAIModel {
  id: string;
  /** gpt-image-2 and later accept any WxH within limits; older ones only the fixed list. */
  flexible: boolean;
  qualities: string[];
  /** input_fidelity is a 1.x option; gpt-image-2 rejects it (providers.md §4). */
  inputFidelity: boolean;
}

const Q4 = ['low', 'medium', 'high', 'auto'];
const Q6 = [...Q4, 'xhigh', 'max'];
const OPENAI: OpenAIModel[] = [
  { id: 'gpt-image-1-mini', flexible: false, qualities: Q4, inputFidelity: true },
  { id: 'gpt-image-1.5', flexible: false, qualities: Q4, inputFidelity: true },
  { id: 'gpt-image-2', flexible: true, qualities: Q4, inputFidelity: false },
  { id: 'gpt-image-2.5-sunburst', flexible: true, qualities: Q6, inputFidelity: true },
  { id: 'gpt-image-2.5-flare', flexible: true, qualities: Q6, inputFidelity: true },
  { id: 'gpt-image-2.6-sunburst', flexible: true, qualities: Q6, inputFidelity: true },
  { id: 'gpt-image-2.6-flare', flexible: true, qualities: Q6, inputFidelity: true },
  { id: 'chatgpt-image-latest', flexible: true, qualities: Q6, inputFidelity: true },
];

export const OPENAI_MODEL_IDS = OPENAI.map((m) => m.id);

/** Known model (dated snapshots like gpt-image-2-2026-04-21 map to their base id) or sim-*. */
export function openaiModel(id: string): OpenAIModel | undefined {
  const base = id.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  const known = OPENAI.find((m) => m.id === base);
  if (known) return known;
  if (!id.startsWith('sim-')) return undefined;
  return { id, flexible: true, qualities: Q6, inputFidelity: true };
}

const FIXED_SIZES = ['1024x1024', '1536x1024', '1024x1536'];

/** Resolve an OpenAI `size`; returns an error message when the model rejects it. */
export function openaiDims(model: OpenAIModel, size: string): Dims | string {
  if (size === 'auto') return { width: 1024, height: 1024 };
  const m = /^(\d+)x(\d+)$/.exec(size);
  const width = Number(m?.[1]);
  const height = Number(m?.[2]);
  if (!model.flexible) {
    if (m && FIXED_SIZES.includes(size)) return { width, height };
    return `Invalid value: '${size}'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.`;
  }
  if (!m || width < 16 || height < 16) return `Invalid value: '${size}'. Expected 'auto' or WIDTHxHEIGHT.`;
  if (width % 16 || height % 16) return `Invalid size '${size}': width and height must be multiples of 16.`;
  if (Math.max(width, height) / Math.min(width, height) > 3) {
    return `Invalid size '${size}': aspect ratio must be between 1:3 and 3:1.`;
  }
  if (Math.max(width, height) > 3840 || width * height > 3840 * 2160) {
    return `Invalid size '${size}': at most 3840 pixels per side and 3840x2160 pixels in total.`;
  }
  return { width, height };
}

/** Output tokens per image: gpt-image-1's per-quality counts at 1024², scaled by area. */
export function openaiOutputTokens(quality: string, dims: Dims): number {
  const per1024: Record<string, number> = { low: 272, medium: 1056, high: 4160, xhigh: 6240, max: 8320 };
  return Math.round((per1024[quality] ?? 1056) * ((dims.width * dims.height) / (1024 * 1024)));
}

/** Rough text token count (4 chars per token) for usage blocks. */
export const textTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));
