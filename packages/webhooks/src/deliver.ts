/**
 * @module One webhook delivery attempt. Every failure (refused URL, DNS, connection, timeout,
 * redirect, non-2xx) is a result, never an exception, so the caller just records it and schedules
 * the next attempt. Nothing here logs: headers hold signatures, URLs may hold tokens.
 */

import { parseRetryAfter } from '@pixelmill/core';
import { guardedFetch, type LookupAll } from '@pixelmill/net-guard';

export interface DeliverWebhookInput {
  url: string;
  /** Usually the output of `signWebhook`; content-type defaults to JSON. */
  headers: Record<string, string>;
  body: string;
  /** api.md: no answer within 15 s counts as a failure. */
  timeoutMs?: number;
  allowPrivate: boolean;
  /** Enough to show a receiver's error message without storing whatever it sends. */
  maxResponseBytes?: number;
  lookup?: LookupAll;
}

export interface DeliveryResult {
  /** True only for a 2xx answer. */
  ok: boolean;
  /** `null` when no HTTP answer arrived. */
  status: number | null;
  latencyMs: number;
  responseExcerpt: string;
  /** From Retry-After on 429 and 503. */
  retryAfterMs?: number;
  /** The receiver answered `webhook-delivery: abort-message`: it wants no more attempts. */
  abort?: true;
  error?: string;
}

const USER_AGENT = 'pixelmill-webhooks/0.1';

/** A response header's value; the first one when the receiver repeated it. */
function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

export async function deliverWebhook({
  url,
  headers,
  body,
  timeoutMs = 15_000,
  allowPrivate,
  maxResponseBytes = 4096,
  lookup,
}: DeliverWebhookInput): Promise<DeliveryResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const failed = (error: string): DeliveryResult => ({
    ok: false,
    status: null,
    latencyMs: elapsed(),
    responseExcerpt: '',
    error,
  });

  try {
    // The guard runs again here, at send time, and the POST goes to the address it checked.
    const res = await guardedFetch({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
      body,
      allowPrivate,
      ...(lookup === undefined ? {} : { lookup }),
      timeoutMs,
      maxResponseBytes,
      oversize: 'truncate',
    });
    const result: DeliveryResult = {
      ok: res.status >= 200 && res.status < 300,
      status: res.status,
      latencyMs: elapsed(),
      responseExcerpt: res.body.toString('utf8'),
    };
    if (res.status === 429 || res.status === 503) {
      const retryAfterMs = parseRetryAfter(headerValue(res.headers, 'retry-after'));
      if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
    }
    if ((headerValue(res.headers, 'webhook-delivery') ?? '').toLowerCase() === 'abort-message')
      result.abort = true;
    // A redirect could lead anywhere, including past the guard: the receiver must fix its URL.
    if (res.status >= 300 && res.status < 400) result.error = `redirect (${res.status}) not followed`;
    return result;
  } catch (err) {
    return failed(describe(err));
  }
}
