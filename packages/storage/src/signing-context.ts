/**
 * @module A SigV4 query-signing context for one signing second, one expiry and one bucket: every
 * presigned GET of that second differs from the others only in its path, so the query, the signed
 * headers, the credential scope and the signing key are taken once from a URL the SDK's presigner
 * signed (for a probe key), and each URL then costs one SHA-256 and one HMAC. The context is used
 * only when it reproduces the SDK's own signature of the probe byte for byte; otherwise the caller
 * signs every URL through the SDK.
 */
import { createHash, createHmac } from 'node:crypto';

/** The request shape the SDK's signer reads and returns (smithy's HttpRequest, without importing it). */
export interface UnsignedRequest {
  protocol: string;
  hostname: string;
  port?: number;
  method: string;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigningContext {
  /** The presigned URL of `path` (already escaped as the request path). */
  urlFor(path: string): string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SIGNATURE = 'X-Amz-Signature';
/** Stands in for the signature while the query is formatted: its escaping is itself. */
const PLACEHOLDER = 'PIXELMILLSIGNATUREPLACEHOLDER';

/** RFC 3986 escaping, as SigV4 canonicalises (and the S3 serializer encodes key segments). */
export function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Query parameters sorted by name, values RFC 3986-escaped, as the SDK formats a presigned URL (and
 * as SigV4 canonicalises a query of plain `name=value` parameters); `skip` leaves one out.
 */
function formatQuery(query: UnsignedRequest['query'], skip?: string): string {
  return Object.entries(query)
    .filter(([name]) => name !== skip)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([name, value]) =>
      value === null
        ? [escapeUri(name)]
        : (Array.isArray(value) ? value : [value]).map((v) => `${escapeUri(name)}=${escapeUri(v)}`),
    )
    .join('&');
}

function origin(req: UnsignedRequest): string {
  return `${req.protocol}//${req.hostname}${req.port !== undefined ? `:${req.port}` : ''}`;
}

/** A presigned request as the SDK formats it into a URL. */
export function formatUrl(req: UnsignedRequest): string {
  const query = formatQuery(req.query);
  return `${origin(req)}${req.path}${query ? `?${query}` : ''}`;
}

/**
 * The context of `signed` (the SDK's presigned probe request), or null when one of its parts is
 * missing or the signature computed from them differs from the SDK's.
 */
export function signingContextOf(signed: UnsignedRequest, credentials: Credentials): SigningContext | null {
  // Only plain `name=value` parameters (what S3 GETs carry); anything else is signed by the SDK.
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.query)) {
    if (typeof value !== 'string') return null;
    query[name] = value;
  }
  const q = (name: string): string | undefined => query[name];
  const longDate = q('X-Amz-Date');
  const credential = q('X-Amz-Credential');
  const signedHeaders = q('X-Amz-SignedHeaders');
  const expected = q(SIGNATURE);
  if (!longDate || !credential || !signedHeaders || !expected || signed.method !== 'GET') return null;
  const scope = credential.slice(credential.indexOf('/') + 1);
  const [shortDate, region, service, terminator] = scope.split('/');
  if (!shortDate || !region || !service || terminator !== 'aws4_request') return null;

  const headerValue = (name: string): string | undefined => {
    const found = Object.entries(signed.headers).find(([n]) => n.toLowerCase() === name);
    return found?.[1]
      .replace(/[\r\n]/g, ' ')
      .replace(/[ \t]+/g, ' ')
      .replace(/^ | $/g, '');
  };
  const headerLines: string[] = [];
  for (const name of signedHeaders.split(';')) {
    const value = headerValue(name);
    if (value === undefined) return null;
    headerLines.push(`${name}:${value}`);
  }
  const payloadHash = q('X-Amz-Content-Sha256') ?? createHash('sha256').update('').digest('hex');
  // The canonical request after its path line: query (without the signature), headers, payload.
  const afterPath = `\n${formatQuery(query, SIGNATURE)}\n${headerLines.join('\n')}\n\n${signedHeaders}\n${payloadHash}`;
  const signingKey = [shortDate, region, service, 'aws4_request'].reduce<Buffer>(
    (key, part) => createHmac('sha256', key).update(part).digest(),
    Buffer.from(`AWS4${credentials.secretAccessKey}`),
  );
  const stringToSignHead = `${ALGORITHM}\n${longDate}\n${scope}\n`;
  const signatureOf = (path: string): string => {
    const canonicalHash = createHash('sha256').update(`GET\n${path}${afterPath}`).digest('hex');
    return createHmac('sha256', signingKey)
      .update(stringToSignHead + canonicalHash)
      .digest('hex');
  };
  if (signatureOf(signed.path) !== expected) return null;

  const [queryHead, queryTail] = formatQuery({ ...query, [SIGNATURE]: PLACEHOLDER }).split(PLACEHOLDER);
  const base = origin(signed);
  return { urlFor: (path) => `${base}${path}?${queryHead}${signatureOf(path)}${queryTail}` };
}
