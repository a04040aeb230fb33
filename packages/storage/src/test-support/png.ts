// Test data: a buffer that starts like a PNG (signature + IHDR) followed by incompressible bytes,
// large enough to catch framing bugs such as aws-chunked bodies stored as object bytes.
import { randomBytes } from 'node:crypto';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngishBuffer(bytes: number): Buffer {
  const ihdr = Buffer.from('0000000d49484452000008000000060008060000000000000000', 'hex');
  return Buffer.concat([PNG_SIGNATURE, ihdr, randomBytes(bytes - PNG_SIGNATURE.length - ihdr.length)]);
}
