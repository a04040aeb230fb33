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
