import { createRoute, z } from '@hono/zod-openapi';
import { createLogger } from '@pixelmill/logger';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from './app.js';
import { DEFAULT_BODY_MAX_BYTES } from './middleware/body-cap.js';
import {
  call,
  expectError,
  item,
  type Json,
  MODEL,
  startTestEnv,
  type TestEnv,
} from './test-support/deps.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
  await env.redis.ping();
});

afterAll(async () => {
  await env?.close();
});

const CHUNK = 16 * 1024;

/**
 * A chunked body (no length) of `total` bytes made by `chunkAt`, produced only when the reader pulls,
 * recording how many bytes were pulled.
 */
function streamed(
  total: number,
  chunkAt: (offset: number) => Uint8Array = () => new Uint8Array(CHUNK).fill(0x61),
) {
  const meter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (meter.pulled >= total) {
          controller.close();
          return;
        }
        const chunk = chunkAt(meter.pulled);
        meter.pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, meter };
}

async function send(
  method: string,
  path: string,
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
) {
  const res = await env.app.request(`http://api.test${path}`, {
    method,
    headers: { authorization: `Bearer ${env.acme.key}`, 'content-type': 'application/json', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as Json };
}

/** The routes that read a JSON body, on an endpoint and a batch that exist. */
async function bodyRoutes(): Promise<[string, string][]> {
  const endpoint = await call(env.app, 'POST', '/v1/webhook-endpoints', {
    key: env.acme.key,
    body: { url: 'https://93.184.215.14/hooks' },
  });
  expect(endpoint.status, JSON.stringify(endpoint.json)).toBe(201);
  const batch = await call(env.app, 'POST', '/v1/batches', {
    key: env.acme.key,
    body: { model: MODEL, items: [item('cap-1')] },
  });
  expect(batch.status, JSON.stringify(batch.json)).toBe(201);
  const endpointId: string = endpoint.json.id;
  const batchId: string = batch.json.id;
  return [
    ['POST', '/v1/webhook-endpoints'],
    ['PATCH', `/v1/webhook-endpoints/${endpointId}`],
    ['POST', `/v1/webhook-endpoints/${endpointId}/rotate-secret`],
    ['POST', `/v1/batches/${batchId}/retry`],
  ];
}

describe('every body is capped while it is read', () => {
  test('each JSON route: a chunked body past 64 KiB is a 413 in the error shape, read no further than the cap', async () => {
    for (const [method, path] of await bodyRoutes()) {
      const { stream, meter } = streamed(50 * 1024 * 1024);
      const r = await send(method, path, stream);
      expect(expectError(r, 413, 'payload_too_large'), `${method} ${path}`).toEqual([
        { path: '(body)', message: `Larger than ${DEFAULT_BODY_MAX_BYTES} bytes` },
      ]);
      expect(meter.pulled, `${method} ${path}`).toBeLessThanOrEqual(DEFAULT_BODY_MAX_BYTES + 2 * CHUNK);
    }
  });

  test('each JSON route: a declared Content-Length over the cap is answered before any byte is read', async () => {
    for (const [method, path] of await bodyRoutes()) {
      const { stream, meter } = streamed(DEFAULT_BODY_MAX_BYTES + 1);
      const r = await send(method, path, stream, { 'content-length': String(DEFAULT_BODY_MAX_BYTES + 1) });
      expectError(r, 413, 'payload_too_large');
      expect(meter.pulled, `${method} ${path}`).toBe(0);
    }
  });

  test('a body at the cap still reaches the route (a 400 for its content, not a 413)', async () => {
    const json = `{"url": "https://93.184.215.14/hooks", "description": "${'d'.repeat(DEFAULT_BODY_MAX_BYTES - 100)}"`;
    const bytes = new TextEncoder().encode(json.padEnd(DEFAULT_BODY_MAX_BYTES, ' '));
    const { stream } = streamed(bytes.byteLength, (offset) => bytes.subarray(offset, offset + CHUNK));
    const r = await send('POST', '/v1/webhook-endpoints', stream);
    expectError(r, 400, 'invalid_request');
  });

  test('a route added later with a validated JSON body gets the same 413, and no error is logged', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: 'cap-test',
      level: 'debug',
      destination: { write: (l: string) => void lines.push(l) },
    });
    const app = createApp({ ...env.deps, logger });
    app.openapi(
      createRoute({
        method: 'post',
        path: '/v1/later',
        request: { body: { content: { 'application/json': { schema: z.object({ a: z.string() }) } } } },
        responses: {
          200: {
            description: 'Echo',
            content: { 'application/json': { schema: z.object({ a: z.string() }) } },
          },
        },
      }),
      (c) => c.json(c.req.valid('json'), 200),
    );
    const { stream, meter } = streamed(50 * 1024 * 1024);
    const res = await app.request('http://api.test/v1/later', {
      method: 'POST',
      headers: { authorization: `Bearer ${env.acme.key}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const r = { status: res.status, headers: res.headers, json: (await res.json()) as Json };
    expect(expectError(r, 413, 'payload_too_large')).toEqual([
      { path: '(body)', message: `Larger than ${DEFAULT_BODY_MAX_BYTES} bytes` },
    ]);
    expect(meter.pulled).toBeLessThanOrEqual(DEFAULT_BODY_MAX_BYTES + 2 * CHUNK);
    expect(lines.map((l) => JSON.parse(l) as { level: number }).filter((l) => l.level >= 50)).toEqual([]);
    // The route itself works.
    const ok = await call(app, 'POST', '/v1/later', { key: env.acme.key, body: { a: 'b' } });
    expect(ok.json).toEqual({ a: 'b' });
  });

  test('the batch ingest has its own larger cap (PIXELMILL_MAX_BODY_BYTES), through the same mechanism', async () => {
    const app = env.appWith({ maxBodyBytes: 300_000 });
    const header = new TextEncoder().encode(`${JSON.stringify({ model: MODEL })}\n`);
    let n = 0;
    const line = () =>
      new TextEncoder().encode(`${JSON.stringify({ custom_id: `big-${n++}`, prompt: 'p'.repeat(4000) })}\n`);
    const { stream, meter } = streamed(50 * 1024 * 1024, (offset) => (offset === 0 ? header : line()));
    const res = await app.request('http://api.test/v1/batches', {
      method: 'POST',
      headers: { authorization: `Bearer ${env.acme.key}`, 'content-type': 'application/x-ndjson' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const r = { status: res.status, headers: res.headers, json: (await res.json()) as Json };
    expect(expectError(r, 413, 'payload_too_large')).toEqual([
      { path: '(body)', message: 'Larger than 300000 bytes' },
    ]);
    expect(r.json.error.message).toContain('PIXELMILL_MAX_BODY_BYTES');
    // Past the default 64 KiB (the larger cap applied), and not far past its own.
    expect(meter.pulled).toBeGreaterThan(DEFAULT_BODY_MAX_BYTES);
    expect(meter.pulled).toBeLessThanOrEqual(300_000 + 4 * 4096);
  });
});
