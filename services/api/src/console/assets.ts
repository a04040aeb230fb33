import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: string;
  contentType: string;
}

const typeOf: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The console's browser files: plain ES modules and CSS shipped as they are (no build step). They live
 * in `src/console/assets/`; the path climbs to the package root first so the same line finds them
 * whether this module runs from `src/` (tsx, vitest) or from `dist/` (the package ships `src` too).
 */
export const assetsDir = fileURLToPath(new URL('../../src/console/assets/', import.meta.url));

/** Read once at start-up into a fixed table: requests can only name files that exist here. */
export function loadAssets(dir: string = assetsDir): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    const contentType = typeOf[ext];
    if (contentType === undefined) continue;
    assets.set(name, { body: readFileSync(join(dir, name), 'utf8'), contentType });
  }
  return assets;
}
