/// <reference path="./s3rver.d.ts" />
/**
 * @module An in-process S3 fake (s3rver 3.7.1) for the demo and tests: no Docker, no network.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import S3rver from 's3rver';

/** s3rver accepts only its built-in account; any other key answers 403 InvalidAccessKeyId. */
export const localS3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3Options {
  /** Where objects are kept on disk. */
  directory: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1 so the fake is never reachable from outside the machine. */
  host?: string;
  /** Created before the server answers (s3rver `configureBuckets`). */
  bucket: string;
}

export interface LocalS3 {
  /** `http://host:port`, to pass as `endpoint` with `forcePathStyle: true`. */
  endpoint: string;
  bucket: string;
  /**
   * Stops the server like a crash would: no new connections, and open ones (kept alive by the SDK,
   * even busy ones) are dropped. Node's own close() keeps serving requests on busy kept-alive
   * sockets until they go idle, so a client that never pauses would never see the server gone.
   */
  close(): Promise<void>;
}

export async function startLocalS3({
  directory,
  port = 0,
  host = '127.0.0.1',
  bucket,
}: LocalS3Options): Promise<LocalS3> {
  const server = new S3rver({
    address: host,
    port,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const address = await server.run();
  guardKeys(server.httpServer, bucket);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    endpoint: `http://${urlHost}:${address.port}`,
    bucket,
    close: async () => {
      const closed = server.close();
      server.httpServer?.closeAllConnections();
      await closed;
    },
  };
}

/**
 * s3rver keeps each object as files named `<last segment>._S3rver_metadata.json` and friends, so a
 * segment near 255 bytes makes the file system refuse it (ENAMETOOLONG, thrown where nothing catches
 * it: the whole process stops), and `.`/`..` segments are followed out of its folder. Such keys are
 * answered here as S3 answers a key it will not store, before s3rver sees them.
 */
const LONGEST_SUFFIX = '._S3rver_metadata.json'.length;
const NAME_MAX = 255;

interface Refusal {
  code: 'KeyTooLongError' | 'InvalidArgument';
  message: string;
}

function keyRefusal(rawPath: string, bucket: string): Refusal | null {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return { code: 'InvalidArgument', message: 'The key is not valid percent-encoded UTF-8' };
  }
  // The raw path, not a parsed URL: URL parsing would resolve the dot segments this looks for.
  if (path.split('/').some((s) => s === '.' || s === '..'))
    return { code: 'InvalidArgument', message: 'This server does not store keys with a . or .. segment' };
  const prefix = `/${bucket}/`;
  if (!path.startsWith(prefix)) return null;
  const key = path.slice(prefix.length);
  if (Buffer.byteLength(key) > 1024) return { code: 'KeyTooLongError', message: 'Your key is too long' };
  const segments = key.split('/');
  const last = segments.length - 1;
  const tooLong = segments.some(
    (s, i) => Buffer.byteLength(s) > (i === last ? NAME_MAX - LONGEST_SUFFIX : NAME_MAX),
  );
  return tooLong ? { code: 'KeyTooLongError', message: 'A key segment is too long for this server' } : null;
}

function guardKeys(httpServer: Server | undefined, bucket: string): void {
  if (httpServer === undefined) return;
  const handlers = httpServer.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  httpServer.removeAllListeners('request');
  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const refusal = keyRefusal((req.url ?? '/').split('?')[0] as string, bucket);
    if (refusal === null) {
      for (const handler of handlers) handler(req, res);
      return;
    }
    req.resume();
    res.writeHead(400, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message></Error>`,
    );
  });
}
