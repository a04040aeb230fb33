/// <reference path="./s3rver.d.ts" />
/**
 * @module An in-process S3 fake (s3rver 3.7.1) for the demo and tests: no Docker, no network.
 */
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
