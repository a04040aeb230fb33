/**
 * Finding the images in an OpenAI-compatible chat completion. Providers disagree on where they go,
 * so sources are tried in providers.md §5's order and the first that yields an image wins:
 * `message.images[]` (OpenRouter) → `content[]` image_url parts → markdown data URLs in the text →
 * markdown http(s) URLs in the text (downloaded).
 * @module
 */
import { type DownloadOptions, downloadImage } from './download.js';
import { decodeDataUrl, markdownImageUrls } from './image-data.js';
import { asArray, asRecord, asString, type JsonRecord } from './json.js';
import type { GeneratedImage } from './types.js';

export async function extractChatImages(body: unknown, download: DownloadOptions): Promise<GeneratedImage[]> {
  const message = asRecord(asRecord(asArray(asRecord(body)?.choices)[0])?.message);
  if (message === undefined) return [];

  const fromImages = await fromUrls(asArray(message.images).map(imageUrlOf), download);
  if (fromImages.length > 0) return fromImages;

  const parts = asArray(message.content).map(asRecord);
  const fromParts = await fromUrls(parts.filter((p) => p?.type === 'image_url').map(imageUrlOf), download);
  if (fromParts.length > 0) return fromParts;

  const text =
    typeof message.content === 'string'
      ? message.content
      : parts.map((p) => asString(p?.text) ?? '').join('\n');
  const { dataUrls, httpUrls } = markdownImageUrls(text);
  const fromMarkdown = dataUrls.map(decodeDataUrl).filter((img) => img !== undefined);
  if (fromMarkdown.length > 0) return fromMarkdown;
  return fromUrls(httpUrls, download);
}

/** `{ image_url: { url } }` or the older `{ image_url: "..." }`. */
function imageUrlOf(item: unknown): string | undefined {
  const record: JsonRecord | undefined = asRecord(item);
  const imageUrl = record?.image_url;
  return asString(imageUrl) ?? asString(asRecord(imageUrl)?.url);
}

async function fromUrls(
  urls: Array<string | undefined>,
  download: DownloadOptions,
): Promise<GeneratedImage[]> {
  const images: GeneratedImage[] = [];
  for (const url of urls) {
    if (url === undefined) continue;
    const image = url.startsWith('data:') ? decodeDataUrl(url) : await downloadImage(url, download);
    if (image !== undefined) images.push(image);
  }
  return images;
}
