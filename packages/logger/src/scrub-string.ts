/**
 * @module Masks secrets and image payloads inside free text (messages, error text, response
 * excerpts), where key-based redaction cannot see them.
 */

/** Strings shorter than this cannot hold an image worth hiding; skipping them keeps logging cheap. */
export const IMAGE_MIN_CHARS = 200;

// A data URI: the whole URI goes, so the MIME type does not leave a dangling prefix.
const DATA_URI = /data:image\/[\w.+-]+;base64,[A-Za-z0-9+/=_-]*/g;
// Any long unbroken base64 run: b64_json fields, inlineData, PNG (`iVBORw0KGgo…`), JPEG (`/9j/…`).
const BASE64_RUN = new RegExp(`[A-Za-z0-9+/_-]{${IMAGE_MIN_CHARS},}={0,2}`, 'g');

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

export function scrubString(value: string): string {
  let out = value;
  if (out.length >= IMAGE_MIN_CHARS) {
    out = out.replace(DATA_URI, imageBytes).replace(BASE64_RUN, imageBytes);
  }
  for (const [pattern, replacement] of TEXT_SECRETS) out = out.replace(pattern, replacement);
  return out;
}
