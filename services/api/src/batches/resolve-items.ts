import type { BatchItemInput, CreateBatchRequest, FieldProblem, ItemSpec, Size } from '@pixelmill/core';
import type { ModelSpec } from '@pixelmill/providers';

/**
 * Applies the batch defaults to each item and checks the result against what the model can do, naming
 * the field that carried the bad value (the item's own, or `defaults.*` when it came from there).
 */
export function resolveItem(
  model: ModelSpec,
  defaults: CreateBatchRequest['defaults'],
  item: BatchItemInput,
  index: number,
  problems: FieldProblem[],
): ItemSpec {
  const where = (field: 'size' | 'aspect_ratio', own: unknown) =>
    own !== undefined ? `items[${index}].${field}` : `defaults.${field}`;

  const size: Size = item.size ?? defaults?.size ?? '1K';
  if (!model.sizes.includes(size)) {
    problems.push({
      path: where('size', item.size),
      message: `${model.id} does not support size ${size} (supported: ${model.sizes.join(', ')})`,
    });
  }
  const aspect = item.aspect_ratio ?? defaults?.aspect_ratio ?? null;
  if (aspect !== null && !model.aspectRatios.includes(aspect)) {
    problems.push({
      path: where('aspect_ratio', item.aspect_ratio),
      message: `${model.id} does not support aspect ratio ${aspect} (supported: ${model.aspectRatios.join(', ')})`,
    });
  }
  const refs = item.reference_images ?? [];
  if (refs.length > model.maxReferenceImages) {
    problems.push({
      path: `items[${index}].reference_images`,
      message: `${model.id} takes at most ${model.maxReferenceImages} reference images`,
    });
  }
  return {
    custom_id: item.custom_id,
    model: model.id,
    prompt: item.prompt,
    size,
    aspect_ratio: aspect,
    n: item.n ?? defaults?.n ?? 1,
    reference_images: refs,
    metadata: item.metadata ?? {},
  };
}
