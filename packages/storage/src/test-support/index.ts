/** @module Test fixtures of @pixelmill/storage for other packages' tests (`@pixelmill/storage/test-support`). */
export { type TestBucket, useTestBucket } from './bucket.js';
