/**
 * @module Presigned GET URLs at the rate results.csv needs (one per output, 100,000 for a large batch).
 * `getSignedUrl` runs the client's whole middleware stack (serializers, endpoint rules) for every
 * URL, about 0.25 ms each. Everything but the key and the signature is the same for every object of
 * one bucket, so the unsigned request is built once through that same stack, for a probe key; each
 * URL then only swaps the key into the path and signs (SigV4 query signing).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';

/** The request shape the signer reads and returns (smithy's HttpRequest, without importing it). */
interface UnsignedRequest {
  protocol: string;
  hostname: string;
  port?: number;
  method: string;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

interface Template {
  request: UnsignedRequest;
  /** The path up to the key: `/bucket/` (path style) or `/` (virtual-hosted). */
  pathPrefix: string;
  presigner: S3RequestPresigner;
  signingRegion: string | undefined;
  signingService: string | undefined;
}

/** Plain ASCII: its encoding is itself, so where it sits in the path shows where the key goes. */
const PROBE_KEY = 'pixelmill-presign-probe';

/** RFC 3986 escaping, as SigV4 canonicalises (and the S3 serializer encodes key segments). */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** As the SDK formats a presigned request: query parameters sorted by name, values RFC 3986-escaped. */
function formatUrl(req: UnsignedRequest): string {
  const query = Object.entries(req.query)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([name, value]) =>
      value === null
        ? [escapeUri(name)]
        : (Array.isArray(value) ? value : [value]).map((v) => `${escapeUri(name)}=${escapeUri(v)}`),
    )
    .join('&');
  const port = req.port !== undefined ? `:${req.port}` : '';
  return `${req.protocol}//${req.hostname}${port}${req.path}${query ? `?${query}` : ''}`;
}

/** Builds the unsigned GET request for the probe key through the client's own middleware stack. */
async function buildTemplate(client: S3Client, bucket: string): Promise<Template | null> {
  const command = new GetObjectCommand({ Bucket: bucket, Key: PROBE_KEY });
  let captured: { request: UnsignedRequest; region?: string; service?: string } | undefined;
  const stack = client.middlewareStack.clone();
  stack.addRelativeTo(
    // biome-ignore lint/suspicious/noExplicitAny: the SDK's middleware types are generic over every command
    (_next: any, context: any) => async (args: any) => {
      const auth = context.endpointV2?.properties?.authSchemes?.[0];
      captured = {
        request: args.request as UnsignedRequest,
        region: context.signing_region ?? auth?.signingRegion,
        service: context.signing_service ?? auth?.signingName,
      };
      return { response: {}, output: { $metadata: {} } };
    },
    {
      name: 'pixelmillPresignTemplate',
      relation: 'before',
      toMiddleware: 'awsAuthMiddleware',
      override: true,
    },
  );
  // biome-ignore lint/suspicious/noExplicitAny: resolveMiddleware wants the client's exact stack type
  await command.resolveMiddleware(stack as any, client.config, {})({ input: command.input });
  if (captured === undefined || !captured.request.path.endsWith(`/${PROBE_KEY}`)) return null;
  const request = captured.request;
  for (const name of ['amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-user-agent'])
    delete request.headers[name];
  const region = captured.region;
  return {
    request,
    pathPrefix: request.path.slice(0, -PROBE_KEY.length),
    presigner: new S3RequestPresigner({
      ...client.config,
      ...(captured.service ? { signingName: captured.service } : {}),
      ...(region ? { region: async () => region } : {}),
    }),
    signingRegion: region,
    signingService: captured.service,
  };
}

export interface Presigner {
  /** A GET URL for `key`, valid `expiresInS` seconds. `signingDate` only for tests. */
  presignGet(key: string, expiresInS: number, signingDate?: Date): Promise<string>;
}

export function createPresigner(client: S3Client, bucket: string): Presigner {
  let template: Promise<Template | null> | undefined;
  return {
    async presignGet(key, expiresInS, signingDate) {
      // A failed build (the endpoint rules threw, say) is tried again on the next URL, not kept.
      template ??= buildTemplate(client, bucket).catch(() => {
        template = undefined;
        return null;
      });
      const t = await template;
      const options = { expiresIn: expiresInS, ...(signingDate ? { signingDate } : {}) };
      // An endpoint whose path does not end in the key (none known): the SDK's own way, per URL.
      if (t === null)
        return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), options);
      const request: UnsignedRequest = {
        ...t.request,
        headers: { ...t.request.headers },
        query: { ...t.request.query },
        path: t.pathPrefix + key.split('/').map(escapeUri).join('/'),
      };
      const signed = (await t.presigner.presign(request as never, {
        ...options,
        ...(t.signingRegion ? { signingRegion: t.signingRegion } : {}),
        ...(t.signingService ? { signingService: t.signingService } : {}),
      })) as unknown as UnsignedRequest;
      return formatUrl(signed);
    },
  };
}
