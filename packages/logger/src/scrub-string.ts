/**
 * @module Masks secrets and image payloads inside free text (messages, error text, response
 * excerpts), where key-based redaction cannot see them.
 */

/** Strings shorter than this cannot hold an image worth hiding; skipping them keeps logging cheap. */
export const IMAGE_MIN_CHARS = 200;

// A data URI: the whole URI goes, so the MIME type does not leave a dangling prefix.
const DATA_URI = /data:image\/[\w.+-]+;base64,[A-Za-z0-9+/=_-]*/g;
// A long unbroken run of base64 characters: b64_json fields, inlineData, but also long object keys
// and paths, which use the same characters. `isImageData` tells them apart.
const BASE64_RUN = new RegExp(`[A-Za-z0-9+/_-]{${IMAGE_MIN_CHARS},}={0,2}`, 'g');
// How PNG, JPEG, WebP (RIFF) and GIF files start once base64-encoded.
const IMAGE_MAGIC = /^(?:iVBORw0KGgo|\/9j\/|UklGR|R0lGOD)/;
// Base64 of compressed bytes has a `/` once in 64 characters on average; keys and paths have one
// every few characters. A run with one `/` per this many characters or more is key-like text.
const KEY_SEGMENT_CHARS = 16;

/**
 * A base64 run is image data when it starts with an image file's base64 signature, or when it has
 * the shape of encoded binary: upper-case letters, lower-case letters and digits all present (text
 * like `a/b/c…` or `xxxx…` lacks some), and its `/` no more frequent than one per 16 characters.
 */
function isImageData(run: string): boolean {
  if (IMAGE_MAGIC.test(run)) return true;
  if (!/[A-Z]/.test(run) || !/[a-z]/.test(run) || !/[0-9]/.test(run)) return false;
  const slashes = run.length - run.replaceAll('/', '').length;
  return slashes * KEY_SEGMENT_CHARS < run.length;
}

const TEXT_SECRETS: [RegExp, string][] = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]'],
  // Standard Webhooks signing secrets (whsec_ + base64).
  [/\bwhsec_[A-Za-z0-9+/=]+/g, 'whsec_[redacted]'],
  // OpenAI-style and pixelmill API keys (sk-…, sk_live_…).
  [/\bsk[-_][A-Za-z0-9_-]{8,}/g, 'sk-[redacted]'],
  // Google API keys, which Gemini also accepts as `?key=` in URLs.
  [/\bAIza[0-9A-Za-z_-]{20,}/g, 'AIza[redacted]'],
];

function imageBytes(match: string): string {
  return `[image bytes: ${match.length} chars]`;
}

const imageRun = (run: string): string => (isImageData(run) ? imageBytes(run) : run);

export function scrubString(value: string): string {
  let out = value;
  if (out.length >= IMAGE_MIN_CHARS) {
    out = out.replace(DATA_URI, imageBytes).replace(BASE64_RUN, imageRun);
  }
  for (const [pattern, replacement] of TEXT_SECRETS) out = out.replace(pattern, replacement);
  return out;
}
