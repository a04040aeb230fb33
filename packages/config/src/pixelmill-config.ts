import { providerConfigEntrySchema } from '@pixelmill/providers';
import { z } from 'zod';
import { loadConfigFile } from './config-file.js';

/** The PIXELMILL_CONFIG file: providers, their keys, models and limits (api.md "Configuration"). */
export const pixelmillConfigSchema = z.strictObject({
  providers: z.array(providerConfigEntrySchema).min(1),
});
export type PixelmillConfig = z.infer<typeof pixelmillConfigSchema>;

/** Loads PIXELMILL_CONFIG when set; undefined means "use the built-in registry with keys from the env". */
export function loadPixelmillConfig(
  path: string | undefined,
  env: Record<string, string | undefined> = process.env,
): PixelmillConfig | undefined {
  return path === undefined ? undefined : loadConfigFile(path, pixelmillConfigSchema, env);
}
