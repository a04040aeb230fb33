export { sha256Hex } from './hash.js';
export { type LocalS3, type LocalS3Options, localS3Credentials, startLocalS3 } from './local-s3.js';
export type { HeadResult, ObjectStore, PutResult } from './object-store.js';
export { createS3Store, type S3Store, type S3StoreOptions } from './s3-store.js';
