/**
 * Image type detection from magic bytes. Providers and proxies mislabel images (a data URL that says
 * image/png around JPEG bytes is common), so the stored content type comes from the bytes.
 * @module
 */

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';

/** Returns the MIME type of a PNG, JPEG, WebP or GIF buffer, or undefined for anything else. */
export function sniffImageMime(buf: Uint8Array): ImageMime | undefined {
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  // RIFF....WEBP: bytes 4-7 are the chunk size.
  if (startsWith(buf, [0x52, 0x49, 0x46, 0x46]) && startsWith(buf.subarray(8), [0x57, 0x45, 0x42, 0x50])) {
    return 'image/webp';
  }
  if (startsWith(buf, [0x47, 0x49, 0x46, 0x38])) return 'image/gif'; // GIF87a / GIF89a
  return undefined;
}

function startsWith(buf: Uint8Array, magic: number[]): boolean {
  if (buf.length < magic.length) return false;
  return magic.every((byte, i) => buf[i] === byte);
}
