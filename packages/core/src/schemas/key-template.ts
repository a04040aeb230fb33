import { z } from 'zod';

/**
 * Where each output goes in the bucket: `output.key_template` with `{placeholder}`s. The default gives
 * `<prefix><batch id>/<custom_id>/<index>.<ext>` (api.md).
 */
export const DEFAULT_KEY_TEMPLATE = '{prefix}{batch_id}/{custom_id}/{index}.{ext}';

export const keyPlaceholders = [
  'prefix',
  'batch_id',
  'custom_id',
  'item_id',
  'index',
  'ext',
  'model',
] as const;
export type KeyPlaceholder = (typeof keyPlaceholders)[number];

const PLACEHOLDER = /\{([a-z_]+)\}/g;
/** What may stand between placeholders: the characters output.prefix allows, no `..` segment. */
const LITERAL = /^[A-Za-z0-9!_.*'()/=+-]*$/;

/** Problems of a template, as sentences (empty when it is usable). */
export function keyTemplateProblems(template: string): string[] {
  const problems: string[] = [];
  const used = [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
  const unknown = used.filter((p) => !(keyPlaceholders as readonly string[]).includes(p));
  if (unknown.length > 0) {
    problems.push(
      `Unknown placeholder ${unknown.map((u) => `{${u}}`).join(', ')} (use ${keyPlaceholders.map((p) => `{${p}}`).join(' ')})`,
    );
  }
  if (!used.includes('custom_id') && !used.includes('item_id')) {
    problems.push('The key template needs {custom_id} or {item_id}, or items would overwrite each other');
  }
  const literal = template.replace(PLACEHOLDER, 'x');
  if (!LITERAL.test(literal) || /(^|\/)\.\.(\/|$)/.test(literal) || template.startsWith('/')) {
    problems.push("Use a relative key made of letters, digits, / and !_.*'()=+- around the placeholders");
  }
  return problems;
}

export const keyTemplateSchema = z
  .string()
  .min(1)
  .max(512)
  .superRefine((t, ctx) => {
    for (const message of keyTemplateProblems(t)) ctx.addIssue({ code: 'custom', message });
  });

/** True when the template tells the images of one item apart; without `{index}`, n must be 1. */
export const keyTemplateHasIndex = (template: string): boolean => template.includes('{index}');

/** A non-empty prefix with the trailing `/` it needs, so `catalog/fall` and `catalog/fall/` agree. */
export const folderPrefix = (prefix: string): string =>
  prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;

/** Fills a (validated) template in; `prefix` gets the trailing `/` a non-empty prefix needs. */
export function renderKeyTemplate(template: string, values: Record<KeyPlaceholder, string | number>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (!(name in values)) return whole;
    const v = String(values[name as KeyPlaceholder]);
    return name === 'prefix' ? folderPrefix(v) : v;
  });
}
