import { createClient, type PixelmillClient } from '@pixelmill/client';

/** The CLI's access to the API: the typed @pixelmill/client, plus raw calls for file uploads and downloads. */
export interface ClientOptions {
  apiUrl: string;
  apiKey: string;
}

export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: API objects are read field by field
export type Json = any;

export class Client {
  /** The typed client (docs/api.md through /openapi.json). */
  readonly api: PixelmillClient;

  constructor(readonly options: ClientOptions) {
    this.api = createClient({ baseUrl: options.apiUrl, apiKey: options.apiKey });
  }

  url(path: string): string {
    return `${this.options.apiUrl.replace(/\/+$/, '')}${path}`;
  }

  async request(
    method: string,
    path: string,
    init: { body?: RequestInit['body']; headers?: Record<string, string>; json?: unknown } = {},
  ): Promise<{ status: number; headers: Headers; json: Json }> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.apiKey}`,
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    };
    const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
    const res = await fetch(this.url(path), {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      // A stream body (a large CSV or NDJSON file) is sent as it is read.
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    const text = await res.text();
    let json: Json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (!res.ok) {
      const err = json?.error;
      throw new ApiCallError(
        res.status,
        err?.code ?? 'http_error',
        err?.message ?? `HTTP ${res.status}`,
        Array.isArray(err?.details) ? err.details : [],
      );
    }
    return { status: res.status, headers: res.headers, json };
  }

  async get(path: string): Promise<Json> {
    return (await this.request('GET', path)).json;
  }

  /** Every page of a list endpoint. */
  async *pages(path: string, limit = 1000): AsyncGenerator<Json[]> {
    let cursor: string | null = null;
    const sep = path.includes('?') ? '&' : '?';
    do {
      const page: Json = await this.get(
        `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      yield page.data as Json[];
      cursor = page.next_cursor;
    } while (cursor);
  }
}
