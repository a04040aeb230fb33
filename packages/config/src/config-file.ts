import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { interpolate } from './interpolate.js';

/**
 * Reads PIXELMILL_CONFIG (YAML or JSON: JSON is YAML), substitutes `${VAR}`, and validates it with the
 * given schema. Every problem names PIXELMILL_CONFIG and the field path inside the file.
 */
export function loadConfigFile<S extends z.ZodType>(
  path: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { variable: 'PIXELMILL_CONFIG', message: `cannot read ${path}: ${(err as Error).message}` },
    ]);
  }
  const { text, missing } = interpolate(raw, env);
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((name) => ({ variable: name, message: `used in PIXELMILL_CONFIG (${path}) but not set` })),
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError([
      { variable: 'PIXELMILL_CONFIG', message: `${path} is not valid YAML/JSON: ${(err as Error).message}` },
    ]);
  }
  const parsed = schema.safeParse(doc);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => ({
      variable: 'PIXELMILL_CONFIG',
      message: `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    })),
  );
}
