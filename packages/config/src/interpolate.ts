/**
 * `${VAR}` and `${VAR:-default}` in PIXELMILL_CONFIG. A variable that is unset and has no default is
 * an error naming it: a missing API key must stop start-up, not become an empty string.
 */
export function interpolate(
  text: string,
  env: Record<string, string | undefined>,
): { text: string; missing: string[] } {
  const missing: string[] = [];
  const out = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_m, name: string, fallback?: string) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      missing.push(name);
      return '';
    },
  );
  return { text: out, missing: [...new Set(missing)] };
}
