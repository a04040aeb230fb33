/**
 * @module Which field names hold secrets. pino's `redact` paths (below) match fixed depths only;
 * the same names are also checked at any depth by scrub-value.ts.
 */

export const REDACTED = '[Redacted]';

/** Compared after lower-casing and dropping `-`/`_`, so `api_key`, `apiKey`, `API-KEY` agree. */
const SECRET_KEY_NAMES = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'apikey',
  'xapikey',
  'xgoogapikey',
  'secret',
  'clientsecret',
  'webhooksecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'sessiontoken',
  'password',
  'secretaccesskey',
]);

/** Deliberately not `key`: S3 object keys are logged everywhere and are not secret. */
export function isSecretKey(name: string): boolean {
  return SECRET_KEY_NAMES.has(name.toLowerCase().replace(/[-_]/g, ''));
}

const REDACT_NAMES = [
  'authorization',
  'apiKey',
  'api_key',
  'secret',
  'webhook_secret',
  'token',
  'password',
  'secretAccessKey',
  'x-api-key',
  'x-goog-api-key',
];

/** Path segment for a name: dotted when it is an identifier, bracketed otherwise (`x-goog-api-key`). */
function segment(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`;
}

/** pino `redact` paths: each name at the top level, one level down, and inside any `headers`. */
export const redactPaths: string[] = [
  ...REDACT_NAMES.map((n) => segment(n).replace(/^\./, '')),
  ...REDACT_NAMES.map((n) => `*${segment(n)}`),
  ...REDACT_NAMES.map((n) => `*.headers${segment(n)}`),
  'req.headers.authorization',
];
