/**
 * @module Presigned GET URLs at the rate results.csv needs (one per output, 100,000 for a large batch).
 * `getSignedUrl` runs the client's whole middleware stack (serializers, endpoint rules) for every
 * URL, about 0.25 ms each. Everything but the key and the signature is the same for every object of
 * one bucket, so the unsigned request is built once through that same stack, for a probe key. Within
 * one signing second everything but the path and the signature is the same too: the SDK's presigner
 * signs the probe once per second and expiry, and each URL of that second is signed from that
 * (signing-context.ts), checked against the SDK's own signature of the probe.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import {
  escapeUri,
  formatUrl,
  type SigningContext,
  signingContextOf,
  type UnsignedRequest,
} from './signing-context.js';

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
  let context: { second: number; expiresInS: number; ready: Promise<SigningContext | null> } | undefined;

  /** The SDK's presigner on the template, with `path` swapped in. */
  const sign = async (t: Template, path: string, expiresIn: number, signingDate?: Date) =>
    (await t.presigner.presign(
      { ...t.request, headers: { ...t.request.headers }, query: { ...t.request.query }, path } as never,
      {
        expiresIn,
        ...(signingDate ? { signingDate } : {}),
        ...(t.signingRegion ? { signingRegion: t.signingRegion } : {}),
        ...(t.signingService ? { signingService: t.signingService } : {}),
      },
    )) as unknown as UnsignedRequest;

  /** The signing context of one second and expiry; null (the SDK signs each URL) if it cannot be had. */
  const contextFor = (t: Template, second: number, expiresInS: number): Promise<SigningContext | null> => {
    if (context?.second !== second || context.expiresInS !== expiresInS) {
      const ready = (async () => {
        const probe = await sign(t, t.request.path, expiresInS, new Date(second * 1000));
        const credentials = await client.config.credentials();
        return signingContextOf(probe, credentials);
      })().catch(() => null);
      context = { second, expiresInS, ready };
    }
    return context.ready;
  };

  return {
    async presignGet(key, expiresInS, signingDate) {
      // A failed build (the endpoint rules threw, say) is tried again on the next URL, not kept.
      template ??= buildTemplate(client, bucket).catch(() => {
        template = undefined;
        return null;
      });
      const t = await template;
      // An endpoint whose path does not end in the key (none known): the SDK's own way, per URL.
      if (t === null)
        return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
          expiresIn: expiresInS,
          ...(signingDate ? { signingDate } : {}),
        });
      const path = t.pathPrefix + key.split('/').map(escapeUri).join('/');
      const second = Math.floor((signingDate ?? new Date()).getTime() / 1000);
      const ctx = await contextFor(t, second, expiresInS);
      if (ctx !== null) return ctx.urlFor(path);
      return formatUrl(await sign(t, path, expiresInS, signingDate));
    },
  };
}
