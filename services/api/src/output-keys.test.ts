/**
 * Output keys at acceptance: every key is rendered under the tenant's root exactly as the worker
 * will write it, and a batch with a key that S3 (or a filesystem-backed S3 server) would refuse, that
 * climbs out of the root, or that is the batch's own manifest is refused whole with the item named.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  call,
  expectError,
  item,
  MODEL,
  startTestEnv,
  type TestEnv,
  writtenState,
} from './test-support/deps.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const submit = (tenant: 'acme' | 'globex', body: Record<string, unknown>) =>
  call(env.app, 'POST', '/v1/batches', { key: env[tenant].key, body: { model: MODEL, ...body } });

/** Submits and checks the 400 left nothing behind; returns its details. */
async function refused(body: Record<string, unknown>) {
  const before = await writtenState(env, env.acme);
  const details = expectError(await submit('acme', body), 400, 'invalid_request');
  expect(await writtenState(env, env.acme)).toEqual(before);
  return details;
}

describe('bucket layout', () => {
  test("each tenant's batches write under its own root, whatever prefix and template they send", async () => {
    const acme = await submit('acme', { output: { prefix: 'catalog/' }, items: [item('a')] });
    expect(acme.status, JSON.stringify(acme.json)).toBe(201);
    expect(acme.json.output.root).toBe('acme/');
    // globex names acme's folder and batch id in its own settings: its keys still start with globex/.
    const globex = await submit('globex', {
      output: { prefix: 'acme/catalog/', key_template: `{prefix}${acme.json.id}/{custom_id}` },
      items: [item('x')],
    });
    expect(globex.status, JSON.stringify(globex.json)).toBe(201);
    expect(globex.json.output.root).toBe('globex/');
  });
});

describe('keys refused at acceptance', () => {
  test('a prefix and template that would render ../../ out of the root', async () => {
    const details = await refused({
      output: { prefix: '.', key_template: '.{prefix}.{prefix}{custom_id}.{ext}' },
      items: [item('escaped')],
    });
    expect(details).toEqual([{ path: 'output.prefix', message: expect.stringContaining('. or .. segment') }]);
  });

  test('an empty segment in the template', async () => {
    const details = await refused({ output: { key_template: 'x//{custom_id}' }, items: [item('a')] });
    expect(details).toEqual([
      { path: 'output.key_template', message: expect.stringContaining('empty segment') },
    ]);
  });

  test('a prefix segment longer than a file name', async () => {
    const details = await refused({ output: { prefix: 'p'.repeat(300) }, items: [item('a')] });
    expect(details).toEqual([{ path: 'output.prefix', message: expect.stringContaining('300 bytes') }]);
  });

  test('a key over 1,024 bytes, named on the one item that makes it', async () => {
    const prefix = Array.from({ length: 2 }, () => 'f'.repeat(200)).join('/');
    const long = `s${'k'.repeat(199)}`;
    const details = await refused({
      output: { prefix, key_template: '{prefix}{custom_id}/{custom_id}/{custom_id}/{custom_id}.{ext}' },
      items: [item('short'), item(long), item('also-short')],
    });
    expect(details).toEqual([
      { path: 'items[1].custom_id', message: expect.stringMatching(/S3 allows 1024/) },
    ]);
  });

  test("an item whose output would overwrite the batch's own manifest", async () => {
    const details = await refused({
      output: { key_template: '{prefix}{batch_id}/{custom_id}' },
      items: [item('sku-1'), item('manifest.jsonl'), item('results.csv')],
    });
    expect(details.map((d) => d.path)).toEqual(['items[1].custom_id', 'items[2].custom_id']);
    expect(details[0]?.message).toMatch(/the batch's own manifest\.jsonl/);
  });

  test('the same rules in an NDJSON upload, named by line', async () => {
    const before = await writtenState(env, env.acme);
    const header = JSON.stringify({
      model: MODEL,
      output: { key_template: '{prefix}{batch_id}/{custom_id}' },
    });
    const lines = [header, JSON.stringify(item('a')), JSON.stringify(item('manifest.jsonl'))].join('\n');
    const res = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      body: lines,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    const details = expectError(res, 400, 'invalid_request');
    expect(details).toEqual([{ path: expect.stringMatching(/^line 3/), message: expect.any(String) }]);
    expect(await writtenState(env, env.acme)).toEqual(before);
  });
});
