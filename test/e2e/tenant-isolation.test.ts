/**
 * Two tenants on one stack (API and worker processes, s3rver, the simulator, real Redis): globex tries
 * every prefix, template and key it can send to reach acme's objects or the S3 server itself, while
 * acme's batch runs. acme's batch finishes on time with every object as recorded; globex's attempts
 * land under globex/ or are refused at the door.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLines, waitFor } from '../support/processes.js';
import { openTestBucket, type TestBucket } from '../support/s3.js';
import { BUCKET, call, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let s3: TestBucket;

beforeAll(async () => {
  stack = await startStack({ workers: 1, sim: { latencyMs: { min: 20, max: 80 } } });
  s3 = openTestBucket(stack.s3.endpoint, BUCKET);
});

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const getObject = (key: string) => s3.getObject(key);

const listKeys = () => s3.listKeys();

/** Every file under a folder, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

const acme = (method: string, path: string, body?: unknown) => call(stack, stack.apiKey, method, path, body);
const globex = (method: string, path: string, body?: unknown) =>
  call(stack, stack.otherApiKey, method, path, body);

const items = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ custom_id: `${tag}-${i}`, prompt: `Product shot ${tag} ${i}` }));

async function ended(tenant: typeof acme, id: string, timeoutMs = 60_000) {
  return waitFor(
    `batch ${id} to end`,
    async () => {
      const r = await tenant('GET', `/v1/batches/${id}`);
      return r.json.completed_at ? r.json : undefined;
    },
    { timeoutMs },
  );
}

describe('two tenants, one bucket', () => {
  test("globex's prefixes, templates and custom_ids never reach acme's objects; acme's batch finishes on time", async () => {
    const started = Date.now();
    const a = await acme('POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      output: { prefix: 'catalog/' },
      items: items(12, 'a'),
    });
    expect(a.status, JSON.stringify(a.json)).toBe(201);
    const acmeId = a.json.id as string;

    // Aimed at acme's manifest, results and outputs by name: accepted, but written under globex/.
    const aimed = await globex('POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      output: { prefix: 'catalog/', key_template: `{prefix}${acmeId}/{custom_id}` },
      items: [
        { custom_id: 'manifest.jsonl', prompt: 'overwrite the manifest' },
        { custom_id: 'results.csv', prompt: 'overwrite the results' },
      ],
    });
    expect(aimed.status, JSON.stringify(aimed.json)).toBe(201);
    // Out of the root through placeholders, an empty segment, a segment the S3 server cannot store as
    // a file name: refused at the door, nothing created.
    const refusedBodies = [
      { output: { prefix: '.', key_template: '.{prefix}.{prefix}{custom_id}.{ext}' } },
      { output: { key_template: 'x//{custom_id}' } },
      { output: { prefix: `${'p'.repeat(300)}` } },
      { output: { key_template: '{custom_id}/{custom_id}{custom_id}.{ext}' }, long: true },
    ];
    for (const { long, ...extra } of refusedBodies) {
      const customId = long ? `s${'x'.repeat(199)}` : 'escaped';
      const r = await globex('POST', '/v1/batches', {
        model: 'gemini-3-pro-image',
        ...extra,
        items: [{ custom_id: customId, prompt: 'p' }],
      });
      expect(r.status, JSON.stringify(r.json)).toBe(400);
      expect(r.json.error.code).toBe('invalid_request');
    }

    // acme's output as a reference image of globex's: refused at the door like a key that does not exist.
    const acmeKey = `acme/catalog/${acmeId}/a-0/0.png`;
    const borrowed = await globex('POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      items: [{ custom_id: 'borrow', prompt: 'p', reference_images: [acmeKey] }],
    });
    const missing = await globex('POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      items: [{ custom_id: 'borrow', prompt: 'p', reference_images: ['acme/catalog/nothing-here.png'] }],
    });
    expect(borrowed.status, JSON.stringify(borrowed.json)).toBe(400);
    expect(borrowed.json.error.details).toEqual(missing.json.error.details);
    expect(borrowed.json.error.details[0].path).toBe('items[0].reference_images[0]');

    const acmeDone = await ended(acme, acmeId);
    const globexDone = await ended(globex, aimed.json.id);
    expect(acmeDone.counts).toMatchObject({ total: 12, succeeded: 12 });
    expect(globexDone.counts).toMatchObject({ total: 2, succeeded: 2 });
    // On time: the same order as a batch of this size alone on the stack (sim latency ≤ 80 ms).
    expect(Date.now() - started).toBeLessThan(60_000);

    // Every acme object is what acme's records say, and acme's files are acme's.
    const acmeItems = (await acme('GET', `/v1/batches/${acmeId}/items?limit=100`)).json.data;
    for (const item of acmeItems) {
      const out = item.outputs[0];
      expect(out.key.startsWith(`acme/catalog/${acmeId}/`)).toBe(true);
      expect(sha256(await getObject(out.key))).toBe(out.sha256);
    }
    expect(acmeDone.manifest_key).toBe(`acme/catalog/${acmeId}/manifest.jsonl`);
    const manifest = (await getObject(acmeDone.manifest_key)).toString('utf8').trim().split('\n');
    expect(manifest.map((l) => JSON.parse(l).custom_id)).toEqual(
      acmeItems.map((i: { custom_id: string }) => i.custom_id),
    );
    const results = (await getObject(acmeDone.results_key)).toString('utf8');
    expect(results).not.toContain('manifest.jsonl');

    // globex's objects are all under globex/; the bucket holds nothing but the two roots.
    const globexItems = (await globex('GET', `/v1/batches/${aimed.json.id}/items`)).json.data;
    expect(globexItems.map((i: { outputs: { key: string }[] }) => i.outputs[0]?.key).sort()).toEqual([
      `globex/catalog/${acmeId}/manifest.jsonl`,
      `globex/catalog/${acmeId}/results.csv`,
    ]);
    const keys = await listKeys();
    expect(keys.filter((k) => !k.startsWith('acme/') && !k.startsWith('globex/'))).toEqual([]);

    // The S3 server was neither escaped nor crashed: no file outside the bucket's folder, and it answers.
    const outside = filesUnder(stack.directory).filter(
      (f) => !f.startsWith(join('s3', BUCKET)) && !f.startsWith('pixelmill.yaml') && !f.startsWith('spool'),
    );
    expect(outside).toEqual([]);
    expect((await listKeys()).length).toBe(keys.length);
    // Refusals are answers, not incidents: no error-level line in any process.
    expect([stack.api, ...stack.workers].flatMap(errorLines)).toEqual([]);
  });
});
