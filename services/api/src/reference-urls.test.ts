/**
 * reference_images at submission (api.md "Create a batch"): URLs through the webhooks' SSRF guard with
 * one DNS lookup per distinct host per batch, bucket keys under the tenant's root; webhook URLs through
 * the same guard. Every refusal names each bad field and leaves nothing behind.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { LookupAll } from '@pixelmill/net-guard';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  call,
  expectError,
  item,
  MODEL,
  type Reply,
  startTestEnv,
  type TestEnv,
  writtenState,
} from './test-support/deps.js';

let env: TestEnv;

/** A resolver for made-up names (no real DNS in tests), counting lookups per host. */
const answers: Record<string, string[]> = {
  'cdn.example.com': ['93.184.216.34'],
  'img.example.org': ['93.184.216.35', '2606:2800:220:1:248:1893:25c8:1946'],
  localhost: ['127.0.0.1'],
  'internal.example.com': ['10.0.0.5'],
  'rebind.example.com': ['93.184.216.34', '::7f00:1'],
  'meta.example.com': ['::a9fe:a9fe'],
};
const lookups = new Map<string, number>();
let inFlight = 0;
let maxInFlight = 0;
const lookup: LookupAll = async (host) => {
  lookups.set(host, (lookups.get(host) ?? 0) + 1);
  inFlight += 1;
  maxInFlight = Math.max(maxInFlight, inFlight);
  try {
    // Answer on a later turn, so lookups of different hosts overlap as real ones do.
    await new Promise((resolve) => setImmediate(resolve));
    const found = answers[host] ?? (/^host-\d+\.example\.net$/.test(host) ? ['93.184.216.40'] : undefined);
    if (found === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  } finally {
    inFlight -= 1;
  }
};

let guarded: OpenAPIHono;
let permissive: OpenAPIHono;

beforeAll(async () => {
  env = await startTestEnv();
  guarded = env.appWith({ lookup });
  permissive = env.appWith({ lookup, allowPrivateWebhooks: true });
});

afterAll(async () => {
  await env?.close();
});

const post = (body: unknown, app = guarded): Promise<Reply> =>
  call(app, 'POST', '/v1/batches', { key: env.acme.key, body });

/** Posts a batch that must be refused, checks nothing was written, and returns the named fields. */
async function refused(body: unknown, app = guarded): Promise<{ path: string; message: string }[]> {
  const before = await writtenState(env, env.acme);
  const details = expectError(await post(body, app), 400, 'invalid_request');
  expect(await writtenState(env, env.acme)).toEqual(before);
  return details;
}

/** One item per reference, so each bad one is named `items[i].reference_images[0]`. */
const oneEach = (refs: string[]) => refs.map((ref, i) => item(`r${i}`, { reference_images: [ref] }));

const PRIVATE_URLS = [
  'http://127.0.0.1/x.png',
  'http://localhost:8080/x.png',
  'http://10.0.0.1/x.png',
  'http://172.16.0.1/x.png',
  'http://192.168.1.1/x.png',
  'http://169.254.169.254/latest/meta-data/',
  'http://100.64.0.1/x.png',
  'http://0.0.0.0/x.png',
  'http://2130706433/x.png',
  'http://0x7f.1/x.png',
  'http://[::1]/x.png',
  'http://[::ffff:127.0.0.1]/x.png',
  'http://[::127.0.0.1]/x.png',
  'http://[::a9fe:a9fe]/x.png',
  'http://[fe80::1]/x.png',
  'http://[fd00::1]/x.png',
  'http://[64:ff9b::a9fe:a9fe]/x.png',
  'https://internal.example.com/x.png',
  'https://rebind.example.com/x.png',
  'https://meta.example.com/x.png',
];
const NOT_HTTP = [
  'file:///etc/passwd',
  'ftp://cdn.example.com/x.png',
  'gopher://127.0.0.1:6379/_INFO',
  'data:image/png;base64,iVBORw0KGgo=',
  'javascript:alert(1)',
];
const BAD_KEYS = [
  'globex/catalog/batch_1/a/0.png', // another tenant's root
  'catalog/batch_1/a/0.png', // no root at all
  'acme/../globex/catalog/0.png',
  'acme//x.png',
  'acme/a b.png',
];

describe('reference_images are checked at submission', () => {
  test('every private, link-local, loopback or non-http URL and every key outside the root is a 400', async () => {
    const bad = [...PRIVATE_URLS, ...NOT_HTTP, ...BAD_KEYS];
    const details = await refused({ model: MODEL, items: oneEach(bad) });
    expect(details.map((d) => d.path).sort()).toEqual(
      bad.map((_, i) => `items[${i}].reference_images[0]`).sort(),
    );
    const messageOf = (i: number) =>
      details.find((d) => d.path === `items[${i}].reference_images[0]`)?.message;
    expect(messageOf(PRIVATE_URLS.indexOf('http://[::a9fe:a9fe]/x.png'))).toContain('(linkLocal)');
    expect(messageOf(PRIVATE_URLS.indexOf('https://rebind.example.com/x.png'))).toContain(
      '::7f00:1 (loopback)',
    );
    expect(messageOf(PRIVATE_URLS.length)).toContain('file: is not http or https');
    expect(messageOf(PRIVATE_URLS.length + NOT_HTTP.length)).toContain("this tenant's root (acme/...)");
  });

  test('only the bad entries of an item are named; a name that does not resolve is one of them', async () => {
    const details = await refused({
      model: MODEL,
      items: [
        item('a', {
          reference_images: [
            'https://cdn.example.com/a.png',
            'acme/refs/a.png',
            'https://nope.invalid/a.png',
            'http://[::ffff:10.0.0.1]/a.png',
          ],
        }),
      ],
    });
    // Reported as each host is answered: in the order the answers came.
    const sorted = [...details].sort((a, b) => a.path.localeCompare(b.path));
    expect(sorted.map((d) => d.path)).toEqual([
      'items[0].reference_images[2]',
      'items[0].reference_images[3]',
    ]);
    expect(sorted[0]?.message).toContain('ENOTFOUND');
  });

  test('public URLs and keys under the root are accepted; the same host is looked up once per batch', async () => {
    lookups.clear();
    // 2,500 items over three chunks, all naming the same two hosts.
    const items = Array.from({ length: 2500 }, (_, i) =>
      item(`sku-${i}`, {
        reference_images: [
          `https://cdn.example.com/sku-${i}.png`,
          `https://img.example.org:8443/${i}.webp?v=${i}`,
          `acme/catalog/batch_x/sku-${i}/0.png`,
        ],
      }),
    );
    const r = await post({ model: MODEL, items });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(Object.fromEntries(lookups)).toEqual({ 'cdn.example.com': 1, 'img.example.org': 1 });
    // A second batch asks again: DNS may have changed since.
    expect((await post({ model: MODEL, items: items.slice(0, 2) })).status).toBe(201);
    expect(lookups.get('cdn.example.com')).toBe(2);
  });

  test('distinct hosts are resolved a few at a time, each once', async () => {
    lookups.clear();
    maxInFlight = 0;
    const hosts = Array.from({ length: 60 }, (_, i) => `host-${i}.example.net`);
    const items = hosts.flatMap((h, i) => [
      item(`a${i}`, { reference_images: [`https://${h}/a.png`] }),
      item(`b${i}`, { reference_images: [`https://${h}/b.png`] }),
    ]);
    expect((await post({ model: MODEL, items })).status).toBe(201);
    expect([...lookups.values()].every((n) => n === 1)).toBe(true);
    expect(lookups.size).toBe(60);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(8);
  });

  test('many items naming one refused host: each named, the host looked up once', async () => {
    lookups.clear();
    const items = Array.from({ length: 40 }, (_, i) =>
      item(`m${i}`, { reference_images: [`https://meta.example.com/${i}.png`] }),
    );
    const details = await refused({ model: MODEL, items });
    expect(details.map((d) => d.path)).toEqual(items.map((_, i) => `items[${i}].reference_images[0]`));
    expect(lookups.get('meta.example.com')).toBe(1);
  });

  test('PIXELMILL_WEBHOOK_ALLOW_PRIVATE allows private addresses, never other schemes or keys outside the root', async () => {
    const ok = await post({ model: MODEL, items: oneEach(PRIVATE_URLS) }, permissive);
    expect(ok.status, JSON.stringify(ok.json)).toBe(201);
    const details = await refused({ model: MODEL, items: oneEach([...NOT_HTTP, ...BAD_KEYS]) }, permissive);
    expect(details).toHaveLength(NOT_HTTP.length + BAD_KEYS.length);
  });

  test('NDJSON and CSV name the line', async () => {
    const ndjson = [
      { model: MODEL },
      item('a', { reference_images: ['https://cdn.example.com/a.png'] }),
      item('b', { reference_images: ['acme/ok.png', 'http://[::a9fe:a9fe]/b.png'] }),
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    const before = await writtenState(env, env.acme);
    const n = await call(guarded, 'POST', '/v1/batches', {
      key: env.acme.key,
      body: `${ndjson}\n`,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(expectError(n, 400, 'invalid_request').map((d) => d.path)).toEqual([
      'line 3: reference_images[1]',
    ]);
    const csv =
      'custom_id,prompt,reference_images\na,p,https://cdn.example.com/a.png|acme/x.png\nb,p,globex/x.png\n';
    const c = await call(guarded, 'POST', `/v1/batches?model=${MODEL}`, {
      key: env.acme.key,
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(expectError(c, 400, 'invalid_request').map((d) => d.path)).toEqual(['line 3: reference_images']);
    expect(await writtenState(env, env.acme)).toEqual(before);
  });
});

describe('webhook URLs at submission use the same guard', () => {
  test('a batch webhook.url and an endpoint url whose host is IPv4-compatible link-local or resolves privately', async () => {
    for (const url of ['http://[::a9fe:a9fe]/hook', 'https://meta.example.com/hook']) {
      const details = await refused({ model: MODEL, webhook: { url }, items: [item('a')] });
      expect(details.map((d) => d.path)).toEqual(['webhook.url']);
      const e = await call(guarded, 'POST', '/v1/webhook-endpoints', { key: env.acme.key, body: { url } });
      expect(expectError(e, 400, 'invalid_request').map((d) => d.path)).toEqual(['url']);
    }
  });
});
