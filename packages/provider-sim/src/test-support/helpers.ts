import { PNG } from 'pngjs';

/** Decode a PNG (bytes or base64) with pngjs, proving it is a real image, and give its size. */
export function pngDims(data: Buffer | string): { width: number; height: number } {
  const png = PNG.sync.read(typeof data === 'string' ? Buffer.from(data, 'base64') : data);
  return { width: png.width, height: png.height };
}

export interface Reply {
  status: number;
  headers: Response['headers'];
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected field by field
  json: any;
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

export const geminiBody = (
  text: string,
  imageConfig?: Record<string, string>,
  extraParts: unknown[] = [],
) => ({
  contents: [{ role: 'user', parts: [{ text }, ...extraParts] }],
  generationConfig: { responseModalities: ['TEXT', 'IMAGE'], ...(imageConfig && { imageConfig }) },
});

/** Poll until check() passes or the deadline expires (no fixed sleeps for synchronisation). */
export async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met before deadline');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export type Format = 'gemini' | 'openai' | 'chat';

/** One small-image request in a given wire format. */
export function send(base: string, format: Format, key: string, model = 'sim-a', prompt = 'p [sim:16x16]') {
  if (format === 'gemini') {
    return post(`${base}/v1beta/models/${model}:generateContent`, geminiBody(prompt), {
      'x-goog-api-key': key,
    });
  }
  const auth = { authorization: `Bearer ${key}` };
  if (format === 'openai') return post(`${base}/v1/images/generations`, { model, prompt }, auth);
  return post(`${base}/v1/chat/completions`, { model, messages: [{ role: 'user', content: prompt }] }, auth);
}

/** The retry hint of a 429 in milliseconds, read the way each provider's clients read it. */
export function retryHintMs(format: Format, r: Reply): number {
  if (format === 'gemini') {
    // biome-ignore lint/suspicious/noExplicitAny: response JSON
    const info = r.json.error.details.find((d: any) => d['@type'].endsWith('RetryInfo'));
    return Number.parseFloat(info.retryDelay) * 1000;
  }
  if (format === 'openai') return Number(r.headers.get('retry-after-ms'));
  return Number(r.headers.get('retry-after')) * 1000;
}
