import type { z } from 'zod';
import {
  type CreateBatchRequest,
  createBatchRequestSchema,
  duplicateCustomIds,
} from './schemas/batch-request.js';

export interface FieldProblem {
  path: string;
  message: string;
}

/** `['items', 3, 'prompt']` → `items[3].prompt`, using the request's own field names (api.md "Errors"). */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

export function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    // zod names unknown keys in the message only; point the path at the key itself.
    if (issue.code === 'unrecognized_keys') {
      return {
        path: formatPath([...path, ...(issue.keys.length === 1 ? issue.keys : [])]),
        message: issue.message,
      };
    }
    return { path: formatPath(path) || '(body)', message: issue.message };
  });
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

/** The whole JSON batch body: schema problems and duplicate custom_ids, all at once. */
export function validateBatchRequest(body: unknown): Validated<CreateBatchRequest> {
  const parsed = createBatchRequestSchema.safeParse(body);
  const problems = parsed.success ? [] : zodProblems(parsed.error);
  const items = (body as { items?: unknown } | null)?.items;
  // Without a template every item needs its own prompt (zod cannot see the header from an item).
  const template = (body as { prompt_template?: unknown } | null)?.prompt_template;
  if (Array.isArray(items) && template === undefined) {
    const missing: FieldProblem[] = [];
    items.forEach((item, i) => {
      if (item !== null && typeof item === 'object' && !('prompt' in item))
        missing.push({ path: `items[${i}].prompt`, message: 'Required' });
    });
    problems.unshift(...missing);
  }
  for (const d of duplicateCustomIds(items)) {
    problems.push({
      path: `items[${d.index}].custom_id`,
      message: `Duplicate custom_id (also used by items[${d.firstIndex}])`,
    });
  }
  if (parsed.success && problems.length === 0) return { ok: true, value: parsed.data };
  return { ok: false, problems };
}
