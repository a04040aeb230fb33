import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localS3Credentials } from './local-s3.js';
import { classifyS3Error } from './s3-error-class.js';

/** The shape the SDK gives a service error: name from the XML `<Code>`, status in `$metadata`. */
const sdkError = (name: string, status: number) =>
  Object.assign(new Error(`${name} from S3`), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
  });

/** A Node network error: a `code`, no HTTP status. */
const netError = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('classifyS3Error (by shape)', () => {
  it.each([
    ['KeyTooLongError', 400],
    ['InvalidArgument', 400],
    ['EntityTooLarge', 400],
    ['InvalidRequest', 400],
    ['MalformedXML', 400],
    ['InvalidDigest', 400],
    ['AccessDenied', 403],
    ['MissingContentLength', 411],
    ['PreconditionFailed', 412],
    ['Unknown', 400],
  ])('%s (%i) is a refusal of the object', (name, status) => {
    expect(classifyS3Error(sdkError(name, status))).toBe('refused');
  });

  it.each([
    ['InternalError', 500],
    ['Unknown', 502],
    ['ServiceUnavailable', 503],
    ['SlowDown', 503],
    ['Throttling', 400],
    ['TooManyRequestsException', 429],
    ['Unknown', 429],
    ['RequestTimeout', 400],
    ['Unknown', 408],
    ['OperationAborted', 409],
    ['IncompleteBody', 400],
    ['NoSuchBucket', 404],
    ['PermanentRedirect', 301],
    ['InvalidAccessKeyId', 403],
    ['SignatureDoesNotMatch', 403],
    ['RequestTimeTooSkewed', 403],
    ['ExpiredToken', 400],
  ])('%s (%i) says S3 is unwell', (name, status) => {
    expect(classifyS3Error(sdkError(name, status))).toBe('unwell');
  });

  it.each([
    netError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:4568'),
    netError('ECONNRESET', 'socket hang up'),
    netError('ETIMEDOUT'),
    netError('EPIPE'),
    Object.assign(new Error('upload of a/0.png: no answer within 60000 ms'), { name: 'TimeoutError' }),
    new Error('something without a status'),
    'a string',
    null,
  ])('an error without an HTTP answer (%s) says S3 is unwell', (err) => {
    expect(classifyS3Error(err)).toBe('unwell');
  });
});

describe('classifyS3Error (errors the real SDK builds from answers)', () => {
  let server: Server;
  let client: S3Client;
  /** The key's first segment picks the answer: `<status>-<S3 code>`. */
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      const [status, code] = (req.url ?? '').split('/')[2]?.split('-') ?? [];
      res.writeHead(Number(status), { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>m</Message></Error>`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new S3Client({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: localS3Credentials,
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client?.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  const put = (key: string) =>
    client.send(new PutObjectCommand({ Bucket: 'b', Key: key, Body: Buffer.from('x') })).then(
      () => {
        throw new Error('the PUT was expected to fail');
      },
      (err: unknown) => err,
    );

  it.each([
    ['400-KeyTooLongError/a', 'refused'],
    ['400-InvalidArgument/a', 'refused'],
    ['400-EntityTooLarge/a', 'refused'],
    ['403-AccessDenied/a', 'refused'],
    ['400-RequestTimeout/a', 'unwell'],
    ['403-InvalidAccessKeyId/a', 'unwell'],
    ['500-InternalError/a', 'unwell'],
    ['503-SlowDown/a', 'unwell'],
  ])('PUT answered %s: %s', async (key, expected) => {
    expect(classifyS3Error(await put(key))).toBe(expected);
  });

  it('a refused connection says S3 is unwell', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const gone = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: localS3Credentials,
      maxAttempts: 1,
    });
    try {
      const err = await gone
        .send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: Buffer.from('x') }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(classifyS3Error(err)).toBe('unwell');
    } finally {
      gone.destroy();
    }
  });
});
