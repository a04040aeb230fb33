import { z } from 'zod';

/**
 * Prompt templates: `{{name}}` is replaced by the item's variable `name` (its `vars`, or a CSV column).
 * Plain substitution, no escaping and no logic: prompts are text for a model, not HTML.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Variable names used by a template, in order of first use. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

export const promptTemplateSchema = z
  .string()
  .max(32_000)
  .refine((t) => templateVariables(t).length > 0, 'A template needs at least one {{variable}}')
  .refine(
    (t) => !/\{\{|\}\}/.test(t.replace(PLACEHOLDER, '')),
    'Use {{name}} placeholders with a name of letters, digits and _ . - (starting with a letter or _)',
  );

export type TemplateVars = Record<string, string | number | boolean>;

export const varsSchema = z
  .record(z.string().max(64), z.union([z.string().max(4000), z.number(), z.boolean()]))
  .refine((v) => Object.keys(v).length <= 64, 'At most 64 variables');

/**
 * Fills a template in. Returns the prompt, or the names of the variables that are missing (an empty
 * string counts as missing: it is what an empty CSV cell gives).
 */
export function renderPromptTemplate(
  template: string,
  vars: TemplateVars | undefined,
): { ok: true; prompt: string } | { ok: false; missing: string[] } {
  const missing = templateVariables(template).filter((name) => {
    const v = vars?.[name];
    return v === undefined || (typeof v === 'string' && v.trim() === '');
  });
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, prompt: template.replace(PLACEHOLDER, (_, name: string) => String(vars?.[name])) };
}
