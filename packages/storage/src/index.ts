export { sha256Hex } from './hash.js';
export { type LocalS3, type LocalS3Options, localS3Credentials, startLocalS3 } from './local-s3.js';
export type { HeadResult, ObjectStore, PutResult } from './object-store.js';
export { normalizePrefix, type OutputKeyParts, outputKey } from './output-key.js';
export { isNotFound } from './s3-errors.js';
export { createS3Store, type S3Store, type S3StoreOptions } from './s3-store.js';
