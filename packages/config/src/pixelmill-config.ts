import { providerConfigEntrySchema } from '@pixelmill/providers';
import { z } from 'zod';
import { loadConfigFile } from './config-file.js';

const quota = z.number().int().min(0);

/**
 * One tenant's quotas (api.md "Tenant quotas"). A field given here replaces the PIXELMILL_TENANT_*
 * default for this tenant (0 = unlimited); a field left out keeps the default.
 */
export const tenantQuotaSchema = z.strictObject({
  max_open_batches: quota.optional(),
  max_queued_items: quota.optional(),
  items_per_minute: quota.optional(),
});
export type TenantQuotaConfig = z.infer<typeof tenantQuotaSchema>;

/** The PIXELMILL_CONFIG file: providers, their keys, models and limits (api.md "Configuration"). */
export const pixelmillConfigSchema = z.strictObject({
  providers: z.array(providerConfigEntrySchema).min(1),
  /** Per-tenant quota overrides, keyed by the tenant id of PIXELMILL_API_KEYS. */
  tenants: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]+$/, 'a tenant id is letters, digits, _ and -'),
      tenantQuotaSchema,
    )
    .optional(),
});
export type PixelmillConfig = z.infer<typeof pixelmillConfigSchema>;

/** Loads PIXELMILL_CONFIG when set; undefined means "use the built-in registry with keys from the env". */
export function loadPixelmillConfig(
  path: string | undefined,
  env: Record<string, string | undefined> = process.env,
): PixelmillConfig | undefined {
  return path === undefined ? undefined : loadConfigFile(path, pixelmillConfigSchema, env);
}
