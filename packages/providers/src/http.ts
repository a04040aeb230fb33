/**
 * The JSON requests of the fetch-based adapters (Gemini, OpenAI-compatible chat). They only move
 * bytes: classification of the answer is each provider's error function's job.
 * @module
 */
import { parseJson } from './json.js';

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body was not JSON (proxy error pages, truncated bodies). */
  body: unknown;
  text: string;
}

export async function postJson(
  fetchFn: typeof fetch,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignal,
): Promise<JsonResponse> {
  const res = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });
  return readJson(res);
}

/** A JSON GET (a listing), read like postJson's answer. */
export async function getJson(
  fetchFn: typeof fetch,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<JsonResponse> {
  const res = await fetchFn(url, {
    method: 'GET',
    headers: { accept: 'application/json', ...headers },
    signal,
  });
  return readJson(res);
}

/** The answer as JsonResponse: the body read whole, parsed when it is JSON. */
async function readJson(res: Response): Promise<JsonResponse> {
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: parseJson(text), text };
}

/** Joins a base URL and a path without doubling or dropping the slash. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
