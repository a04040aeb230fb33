import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { localS3Credentials } from '@pixelmill/storage';

/** Reads the stack's embedded bucket (s3rver), as a test checks what the services stored. */
export interface TestBucket {
  client: S3Client;
  getObject(key: string): Promise<Buffer>;
  /** Every key in the bucket, sorted. */
  listKeys(): Promise<string[]>;
  destroy(): void;
}

export function testS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: localS3Credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function openTestBucket(endpoint: string, bucket: string): TestBucket {
  const client = testS3Client(endpoint);
  return {
    client,
    async getObject(key) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(
        await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    },
    async listKeys() {
      const res = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (res.Contents ?? []).map((o) => o.Key as string).sort();
    },
    destroy: () => client.destroy(),
  };
}
