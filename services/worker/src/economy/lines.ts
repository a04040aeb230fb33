/**
 * @module How items become lines of a provider batch job and how a result line's key finds its item
 * again: `<item id>~<first image index>`. A Gemini line is one image (one line per image of an item);
 * an OpenAI line asks for all of an item's images (`n`).
 */
import type { Item } from '@pixelmill/core';
import type { BatchLine, ModelSpec, ReferenceImage } from '@pixelmill/providers';

export const lineKey = (itemId: string, index: number): string => `${itemId}~${index}`;

export function parseLineKey(key: string): { itemId: string; index: number } | undefined {
  const at = key.lastIndexOf('~');
  const digits = key.slice(at + 1);
  if (at <= 0 || !/^\d{1,4}$/.test(digits)) return undefined;
  return { itemId: key.slice(0, at), index: Number(digits) };
}

/**
 * The lines of the images an item still needs (outputs already stored are not asked for again), each
 * with its item's reference images (loaded by the caller, by item id).
 */
export function linesOf(
  model: ModelSpec,
  items: Item[],
  references: ReadonlyMap<string, ReferenceImage[]> = new Map(),
): BatchLine[] {
  const lines: BatchLine[] = [];
  for (const item of items) {
    const stored = new Set(item.outputs.map((o) => o.index));
    const missing = Array.from({ length: item.n }, (_, i) => i).filter((i) => !stored.has(i));
    if (missing.length === 0) continue;
    const base = {
      prompt: item.prompt,
      size: item.size,
      aspectRatio: item.aspect_ratio ?? undefined,
      referenceImages: references.get(item.id) ?? [],
    };
    if (model.maxImagesPerCall === 1) {
      for (const index of missing) lines.push({ key: lineKey(item.id, index), ...base, n: 1 });
    } else {
      lines.push({ key: lineKey(item.id, missing[0] ?? 0), ...base, n: missing.length });
    }
  }
  return lines;
}
