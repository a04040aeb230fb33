export { loadConfigFile } from './config-file.js';
export { type Env, envSchema, loadEnv } from './env.js';
export { ConfigError } from './errors.js';
export { interpolate } from './interpolate.js';
export {
  loadPixelmillConfig,
  type PixelmillConfig,
  pixelmillConfigSchema,
  type TenantQuotaConfig,
  tenantQuotaSchema,
} from './pixelmill-config.js';
export { loadStartupConfigOrExit, s3OptionsFromEnv } from './startup.js';
