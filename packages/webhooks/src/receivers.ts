/**
 * @module Receiver helpers for customers' servers (and pixelmill's own tests).
 *
 * Express: mount the route with `express.raw({ type: 'application/json' })` so `req.body` is the
 * raw Buffer, then `verifyNodeRequest(req, secret)`; with `express.json()` the body is re-serialised
 * and no longer matches the signature.
 */
import type { IncomingMessage } from 'node:http';
import { verifyWebhook } from './verify.js';

/** The part of a Hono `Context` we need, so this package does not depend on hono. */
export interface HonoLikeContext {
  req: { text(): Promise<string>; header(): Record<string, string> };
}

/** @example app.post('/hooks', async (c) => { const event = await verifyHonoRequest(c, secret); ... }) */
export async function verifyHonoRequest<T = unknown>(
  c: HonoLikeContext,
  secret: string | readonly string[],
): Promise<T> {
  // text(), not json(): the signature covers the exact bytes.
  const rawBody = await c.req.text();
  return verifyWebhook<T>({ secret, rawBody, headers: c.req.header() });
}

/** Deliveries are small JSON documents; refuse to buffer more than this from an unverified sender. */
const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    total += buf.length;
    if (total > maxBytes) throw new Error(`webhook body exceeds ${maxBytes} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Works on a bare node:http request, or after `express.raw()` (uses `req.body` when it is raw). */
export async function verifyNodeRequest<T = unknown>(
  req: IncomingMessage & { body?: unknown },
  secret: string | readonly string[],
  { maxBytes = MAX_BODY_BYTES }: { maxBytes?: number } = {},
): Promise<T> {
  const rawBody =
    Buffer.isBuffer(req.body) || typeof req.body === 'string' ? req.body : await readBody(req, maxBytes);
  return verifyWebhook<T>({ secret, rawBody, headers: req.headers });
}
