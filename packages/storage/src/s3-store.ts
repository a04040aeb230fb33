/**
 * @module The S3 adapter of {@link ObjectStore}, for AWS and for local fakes (s3rver).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { hashingTap, sha256Hex } from './hash.js';
import type { HeadResult, ObjectStore, PutResult } from './object-store.js';
import { createPresigner } from './presigner.js';
import { describeError, isNotFound } from './s3-errors.js';

export interface S3StoreOptions {
  /** Omit for AWS; `http://127.0.0.1:4568` for a local fake. */
  endpoint?: string;
  /**
   * The endpoint that presigned URLs are signed for, when clients and browsers reach the bucket by
   * another address than this process does (`http://localhost:9000` vs `http://minio:9000`).
   * Omit to sign for `endpoint`.
   */
  publicEndpoint?: string;
  region: string;
  bucket: string;
  /** Local fakes need path-style URLs (`/bucket/key`). */
  forcePathStyle?: boolean;
  /** Omit to use the standard AWS credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface S3Store extends ObjectStore {
  readonly bucket: string;
  readonly client: S3Client;
  /** Closes the SDK's keep-alive sockets (call on shutdown). */
  destroy(): void;
}

const DEFAULT_PRESIGN_S = 3600;
/** SigV4 presigned URLs cannot outlive 7 days. */
const MAX_PRESIGN_S = 604_800;
/** /readyz must answer quickly even when the bucket host black-holes packets. */
const PING_TIMEOUT_MS = 5_000;

export function createS3Store(options: S3StoreOptions): S3Store {
  const { bucket, region, endpoint } = options;
  const clientFor = (at: string | undefined) =>
    new S3Client({
      region,
      ...(at !== undefined ? { endpoint: at } : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
      ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
      // The default WHEN_SUPPORTED sends streamed bodies as aws-chunked with a trailing CRC32,
      // which s3rver 3.7.1 stores as object bytes (silent corruption; stack.md §10).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const client = clientFor(endpoint);
  // Signing makes no request: a second client only carries the public endpoint into the URLs.
  const signer = options.publicEndpoint !== undefined ? clientFor(options.publicEndpoint) : client;
  const presigner = createPresigner(signer, bucket);

  return {
    bucket,
    client,
    destroy: () => {
      client.destroy();
      if (signer !== client) signer.destroy();
    },

    async put(key, body, contentType): Promise<PutResult> {
      const sha256 = sha256Hex(body);
      // A Buffer body (never a stream) keeps the request a plain signed PUT on every S3 fake.
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
          Metadata: { sha256 },
        }),
      );
      return { key, bytes: body.length, sha256 };
    },

    async putStream(key, body: Readable, contentType): Promise<PutResult> {
      const { tap, result } = hashingTap();
      // pipeline forwards a source error into `tap`, which makes the upload fail instead of hang.
      pipeline(body, tap, () => {});
      // lib-storage buffers parts (5 MB) into Buffers, so the checksum caveat above does not apply.
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: tap, ContentType: contentType },
      });
      await upload.done();
      return { key, ...result() };
    },

    async head(key): Promise<HeadResult | null> {
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        const sha256 = res.Metadata?.sha256;
        return {
          bytes: res.ContentLength ?? 0,
          contentType: res.ContentType ?? 'application/octet-stream',
          ...(sha256 !== undefined ? { sha256 } : {}),
        };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async get(key): Promise<Buffer> {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (res.Body === undefined) throw new Error(`S3 GetObject returned no body for ${bucket}/${key}`);
      return Buffer.from(await res.Body.transformToByteArray());
    },

    async presignGet(key, expiresInS = DEFAULT_PRESIGN_S): Promise<string> {
      if (!Number.isInteger(expiresInS) || expiresInS < 1 || expiresInS > MAX_PRESIGN_S) {
        throw new RangeError(`expiresInS must be an integer from 1 to ${MAX_PRESIGN_S}, got ${expiresInS}`);
      }
      return presigner.presignGet(key, expiresInS);
    },

    async delete(key): Promise<void> {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async ensureBucket(): Promise<void> {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        await client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            // us-east-1 is the one region where S3 rejects an explicit LocationConstraint.
            ...(region !== 'us-east-1'
              ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }
              : {}),
          }),
        );
      } catch (err) {
        // Another process may have created it between our HEAD and CREATE.
        if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw err;
      }
    },

    async ping(): Promise<void> {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }), {
          abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS),
        });
      } catch (err) {
        const where = endpoint ?? `AWS ${region}`;
        throw new Error(`S3 bucket "${bucket}" is not reachable at ${where}: ${describeError(err)}`, {
          cause: err,
        });
      }
    },
  };
}
