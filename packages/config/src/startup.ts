import { type Env, loadEnv } from './env.js';
import { ConfigError } from './errors.js';
import { loadPixelmillConfig, type PixelmillConfig } from './pixelmill-config.js';

/**
 * What every service's main.ts reads first. A bad or missing value stops start-up here with the
 * variable's name (and exit code 1), before any connection is opened.
 */
export function loadStartupConfigOrExit(): { env: Env; config: PixelmillConfig | undefined } {
  try {
    const env = loadEnv();
    return { env, config: loadPixelmillConfig(env.PIXELMILL_CONFIG) };
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

/** The output bucket's client settings; without AWS_* keys the standard AWS credential chain applies. */
export function s3OptionsFromEnv(env: Env): {
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  endpoint?: string;
  publicEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  return {
    region: env.S3_REGION,
    bucket: env.S3_BUCKET,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
    ...(env.S3_PUBLIC_ENDPOINT ? { publicEndpoint: env.S3_PUBLIC_ENDPOINT } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }
      : {}),
  };
}
