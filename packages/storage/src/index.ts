export { sha256Hex } from './hash.js';
export { type LocalS3, type LocalS3Options, localS3Credentials, startLocalS3 } from './local-s3.js';
export type { HeadResult, ObjectStore, PutResult } from './object-store.js';
export { classifyS3Error, type S3ErrorClass } from './s3-error-class.js';
export { describeError, isNotFound } from './s3-errors.js';
export { createS3Store, type S3Store, type S3StoreOptions } from './s3-store.js';
