export type { Logger } from 'pino';
export { type CreateLoggerOptions, createLogger } from './create-logger.js';
export { IMAGE_MIN_CHARS, scrubString } from './scrub-string.js';
export { scrubValue } from './scrub-value.js';
export { isSecretKey, REDACTED, redactPaths } from './secret-keys.js';
