import {
  type BatchHeader,
  type BatchItemInput,
  DEFAULT_KEY_TEMPLATE,
  type FieldProblem,
  type ItemSpec,
  keyTemplateHasIndex,
  MAX_PROMPT_CHARS,
  renderPromptTemplate,
  type Size,
} from '@pixelmill/core';
import type { ModelRegistry, ModelSpec } from '@pixelmill/providers';

/** Names a field of one item in the request's own terms: `items[3].size`, `line 7: size`. */
export type Locate = (field: string) => string;

/** What every item of a batch is resolved against: its header, the registry and how header fields are named. */
export interface ResolveContext {
  header: BatchHeader;
  defaultModel: ModelSpec;
  registry: ModelRegistry;
  /** Names a header field: `defaults.size` (JSON), `line 1: defaults.size` (NDJSON), `query.size` (CSV). */
  locateHeader: Locate;
  /** Models seen in this batch, by the id or alias the request used (undefined: unknown). */
  models: Map<string, ModelSpec | undefined>;
}

function modelOf(ctx: ResolveContext, name: string | undefined): ModelSpec | undefined {
  if (name === undefined) return ctx.defaultModel;
  if (!ctx.models.has(name)) ctx.models.set(name, ctx.registry.resolve(name));
  return ctx.models.get(name);
}

/**
 * Applies the batch defaults and template to one item and checks the result against what its own
 * model can do, naming the field that carried the bad value (the item's own, or the header's when it
 * came from there). Returns null when the item has a problem.
 */
export function resolveItem(
  ctx: ResolveContext,
  item: BatchItemInput,
  locate: Locate,
  problems: FieldProblem[],
): ItemSpec | null {
  const before = problems.length;
  const { header } = ctx;
  const defaults = header.defaults;
  const where = (field: 'size' | 'aspect_ratio' | 'n', own: unknown) =>
    own !== undefined ? locate(field) : ctx.locateHeader(`defaults.${field}`);

  const model = modelOf(ctx, item.model);
  if (model === undefined) {
    problems.push({ path: locate('model'), message: `Unknown model "${item.model}"; see GET /v1/models` });
    return null;
  }
  if (model !== ctx.defaultModel && !ctx.registry.available(model)) {
    problems.push({ path: locate('model'), message: `Provider ${model.provider} has no API key` });
  }

  let prompt = item.prompt;
  if (prompt === undefined) {
    if (header.prompt_template === undefined) {
      problems.push({ path: locate('prompt'), message: 'Required' });
    } else {
      const rendered = renderPromptTemplate(header.prompt_template, item.vars);
      if (rendered.ok) prompt = rendered.prompt;
      else
        for (const name of rendered.missing)
          problems.push({ path: locate(`vars.${name}`), message: `Missing template variable "${name}"` });
    }
  }
  if (prompt !== undefined && prompt.length > MAX_PROMPT_CHARS) {
    problems.push({
      path: locate('prompt'),
      message: `The prompt is longer than ${MAX_PROMPT_CHARS} characters`,
    });
  }

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
  const n = item.n ?? defaults?.n ?? 1;
  if (n > 1 && !keyTemplateHasIndex(header.output?.key_template ?? DEFAULT_KEY_TEMPLATE)) {
    problems.push({
      path: where('n', item.n),
      message: 'output.key_template has no {index}, so an item can have only one image',
    });
  }
  const refs = item.reference_images ?? [];
  if (refs.length > model.maxReferenceImages) {
    problems.push({
      path: locate('reference_images'),
      message: `${model.id} takes at most ${model.maxReferenceImages} reference images`,
    });
  }
  if (problems.length > before || prompt === undefined) return null;
  return {
    custom_id: item.custom_id,
    model: model.id,
    prompt,
    size,
    aspect_ratio: aspect,
    n,
    reference_images: refs,
    metadata: item.metadata ?? {},
  };
}
