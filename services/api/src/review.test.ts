import { createHash } from 'node:crypto';
import { generateJobId, type ItemOutput, itemIdFor } from '@pixelmill/core';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { allJobs, call, expectError, item, MODEL, startTestEnv, type TestEnv } from './test-support/deps.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
});

afterAll(async () => {
  await env?.close();
});

const keyIdOf = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 10);

const output = (index: number, key: string, flagged: boolean): ItemOutput => ({
  index,
  key,
  content_type: 'image/png',
  width: 1024,
  height: 1024,
  bytes: 100,
  sha256: 'x',
  thumbnail_key: key.replace(/\.png$/, '.thumb.webp'),
  qa: {
    status: flagged ? 'flagged' : 'passed',
    dhash: '0123456789abcdef',
    checks: [{ name: 'blank', passed: !flagged, value: flagged ? 0 : 40 }],
  },
});

/**
 * A batch accepted through the API whose items are then ended through the store as a worker would
 * (one output each, `flag-*` items flagged) and completed: no worker runs in these tests.
 */
async function completedBatch(customIds: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const r = await call(env.app, 'POST', '/v1/batches', {
    key: env.acme.key,
    body: { model: MODEL, items: customIds.map((c) => item(c, { n: 2 })), ...extra },
  });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  const batchId: string = r.json.id;
  // The generation jobs are not run here.
  await env.queues.generate(MODEL).obliterate({ force: true });
  for (const c of customIds) {
    const id = itemIdFor(batchId, c);
    await env.store.startItem(batchId, id);
    for (const i of [0, 1])
      await env.store.recordOutput(
        id,
        output(i, `acme/${batchId}/${c}/${i}.png`, c.startsWith('flag') && i === 1),
      );
    await env.store.endItem(batchId, id, { status: 'succeeded', costMicros: 268_000, images: 2 });
  }
  expect(await env.store.claimFinalize(batchId)).toBe(false);
  await env.store.completeBatch(batchId, `acme/${batchId}/manifest.jsonl`, `acme/${batchId}/results.csv`);
  return batchId;
}

describe('batch qa policy at acceptance', () => {
  test('JSON, NDJSON and CSV take qa.on_flag / max_regenerations; the default is keep', async () => {
    const json = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      body: { model: MODEL, items: [item('a')], qa: { on_flag: 'regenerate', max_regenerations: 3 } },
    });
    expect(json.status).toBe(201);
    expect(json.json.qa).toEqual({ on_flag: 'regenerate', max_regenerations: 3 });
    const plain = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      body: { model: MODEL, items: [item('a')] },
    });
    expect(plain.json.qa).toEqual({ on_flag: 'keep', max_regenerations: 0 });
    const ndjson = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ model: MODEL, qa: { on_flag: 'regenerate' } })}\n${JSON.stringify(item('a'))}\n`,
    });
    expect(ndjson.status).toBe(201);
    expect(ndjson.json.qa).toEqual({ on_flag: 'regenerate', max_regenerations: 1 });
    const csv = await call(
      env.app,
      'POST',
      `/v1/batches?model=${MODEL}&qa_on_flag=regenerate&qa_max_regenerations=2`,
      { key: env.acme.key, headers: { 'content-type': 'text/csv' }, body: 'custom_id,prompt\na,A lamp\n' },
    );
    expect(csv.status).toBe(201);
    expect(csv.json.qa).toEqual({ on_flag: 'regenerate', max_regenerations: 2 });
  });

  test('bad policies are 400 naming the field in the request’s own terms', async () => {
    const json = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      body: { model: MODEL, items: [item('a')], qa: { on_flag: 'redo', max_regenerations: 6 } },
    });
    expect(
      expectError(json, 400, 'invalid_request')
        .map((d) => d.path)
        .sort(),
    ).toEqual(['qa.max_regenerations', 'qa.on_flag']);
    const ndjson = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ model: MODEL, qa: { max_regenerations: -1 } })}\n${JSON.stringify(item('a'))}\n`,
    });
    expect(expectError(ndjson, 400, 'invalid_request').map((d) => d.path)).toEqual([
      'line 1: qa.max_regenerations',
    ]);
    const csv = await call(env.app, 'POST', `/v1/batches?model=${MODEL}&qa_max_regenerations=9`, {
      key: env.acme.key,
      headers: { 'content-type': 'text/csv' },
      body: 'custom_id,prompt\na,A lamp\n',
    });
    expect(expectError(csv, 400, 'invalid_request').map((d) => d.path)).toEqual([
      'query.qa_max_regenerations',
    ]);
  });
});

describe('review, regenerate and choose through the API', () => {
  test('review one and many: by is the key id, listings filter by review and qa, results say so', async () => {
    const batchId = await completedBatch(['ok-1', 'ok-2', 'flag-1']);
    const one = await call(env.app, 'POST', `/v1/batches/${batchId}/items/ok-1/review`, {
      key: env.acme.key,
      body: { action: 'approve', note: 'good' },
    });
    expect(one.status).toBe(200);
    expect(one.json.review).toEqual({
      status: 'approved',
      by: keyIdOf(env.acme.key),
      at: expect.any(String),
      note: 'good',
    });
    expect(JSON.stringify(one.json)).not.toContain(env.acme.key);
    const many = await call(env.app, 'POST', `/v1/batches/${batchId}/items/review`, {
      key: env.acme.key,
      body: { item_ids: [itemIdFor(batchId, 'flag-1')], action: 'reject', note: 'blank second view' },
    });
    expect(many.status).toBe(200);
    expect(many.json.reviewed).toBe(1);
    expect(many.json.data[0]).toMatchObject({ custom_id: 'flag-1', review: { status: 'rejected' } });

    const list = async (query: string) =>
      (
        await call(env.app, 'GET', `/v1/batches/${batchId}/items?${query}`, { key: env.acme.key })
      ).json.data.map((i: { custom_id: string }) => i.custom_id);
    expect(await list('review=approved')).toEqual(['ok-1']);
    expect(await list('review=pending')).toEqual(['ok-2']);
    expect(await list('qa=flagged')).toEqual(['flag-1']);
    expect(await list('qa=passed&review=pending')).toEqual(['ok-2']);
    expect(await list('qa=passed&status=succeeded')).toEqual(['ok-1', 'ok-2']);
    const bad = await call(env.app, 'GET', `/v1/batches/${batchId}/items?review=maybe&qa=odd`, {
      key: env.acme.key,
    });
    expect(
      expectError(bad, 400, 'invalid_request')
        .map((d) => d.path)
        .sort(),
    ).toEqual(['qa', 'review']);

    const res = await env.app.request(`http://api.test/v1/batches/${batchId}/results`, {
      headers: { authorization: `Bearer ${env.acme.key}` },
    });
    const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.custom_id, r.review_status, r.reviewed_by, r.version, r.qa_status])).toEqual([
      ['ok-1', 'approved', keyIdOf(env.acme.key), '1', 'passed'],
      ['ok-2', 'pending', '', '1', 'passed'],
      ['flag-1', 'rejected', keyIdOf(env.acme.key), '1', 'flagged'],
    ]);
    // The batch had completed: its files are queued for a rewrite.
    const refresh = (await allJobs(env.queues.finalize)).filter((j) => j.name === 'refresh-files');
    expect(refresh.map((j) => j.data.batch_id)).toContain(batchId);
  });

  test('a bulk review naming an item not in the batch is a 400 by path and reviews nothing', async () => {
    const batchId = await completedBatch(['b-1']);
    const r = await call(env.app, 'POST', `/v1/batches/${batchId}/items/review`, {
      key: env.acme.key,
      body: { custom_ids: ['b-1', 'nope'], action: 'approve' },
    });
    expect(expectError(r, 400, 'invalid_request')).toEqual([
      { path: 'custom_ids[1]', message: 'No such item in this batch' },
    ]);
    expect((await env.store.getItem(itemIdFor(batchId, 'b-1')))?.review.status).toBe('pending');
    const both = await call(env.app, 'POST', `/v1/batches/${batchId}/items/review`, {
      key: env.acme.key,
      body: { custom_ids: ['b-1'], item_ids: [itemIdFor(batchId, 'b-1')], action: 'ok' },
    });
    expect(
      expectError(both, 400, 'invalid_request')
        .map((d) => d.path)
        .sort(),
    ).toEqual(['action', 'custom_ids']);
    const note = await call(env.app, 'POST', `/v1/batches/${batchId}/items/b-1/review`, {
      key: env.acme.key,
      body: { action: 'approve', note: 'x'.repeat(2001), extra: 1 },
    });
    expect(
      expectError(note, 400, 'invalid_request')
        .map((d) => d.path)
        .sort(),
    ).toEqual(['extra', 'note']);
  });

  test('regenerate: a new version of the same custom_id, queued with its edits; versions kept; choose one', async () => {
    const batchId = await completedBatch(['r-1', 'r-2']);
    const bad = await call(env.app, 'POST', `/v1/batches/${batchId}/items/r-1/regenerate`, {
      key: env.acme.key,
      body: { prompt: '', size: '8K', n: 11 },
    });
    expect(
      expectError(bad, 400, 'invalid_request')
        .map((d) => d.path)
        .sort(),
    ).toEqual(['n', 'prompt', 'size']);
    const unsupported = await call(env.app, 'POST', `/v1/batches/${batchId}/items/r-1/regenerate`, {
      key: env.acme.key,
      body: { aspect_ratio: '7:3' },
    });
    expect(expectError(unsupported, 400, 'invalid_request').map((d) => d.path)).toEqual(['aspect_ratio']);

    const r = await call(env.app, 'POST', `/v1/batches/${batchId}/items/r-1/regenerate`, {
      key: env.acme.key,
      body: { prompt: 'Studio product shot of r-1, brighter' },
    });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({
      custom_id: 'r-1',
      status: 'queued',
      version: 2,
      prompt: 'Studio product shot of r-1, brighter',
      outputs: [],
      review: { status: 'pending' },
    });
    expect(r.json.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(r.json.versions[0].outputs).toHaveLength(2);
    expect(r.json.versions[0].outputs[0].thumbnail_url).toEqual(expect.any(String));
    expect(r.json.versions[1].cause).toEqual({
      reason: 'requested',
      by: keyIdOf(env.acme.key),
      changed: ['prompt'],
    });
    const itemId = itemIdFor(batchId, 'r-1');
    const job = await env.queues.generate(MODEL).getJob(generateJobId(itemId, 1));
    expect(job?.data).toEqual({ batch_id: batchId, item_id: itemId, tenant_id: 'acme' });
    // The batch re-opened; what the item has cost so far stays in the batch's total.
    const batch = await call(env.app, 'GET', `/v1/batches/${batchId}`, { key: env.acme.key });
    expect(batch.json).toMatchObject({
      status: 'running',
      completed_at: null,
      counts: { queued: 1, succeeded: 1 },
    });
    expect(batch.json.cost.actual_usd).toBeCloseTo(0.536, 6);
    // Queued: neither regenerated nor chosen again until it ends.
    const again = await call(env.app, 'POST', `/v1/batches/${batchId}/items/r-1/regenerate`, {
      key: env.acme.key,
    });
    expect(expectError(again, 409, 'conflict')).toEqual([]);
    const early = await call(env.app, 'POST', `/v1/batches/${batchId}/items/r-1/choose`, {
      key: env.acme.key,
      body: { version: 1 },
    });
    expectError(early, 409, 'conflict');

    // The worker's part, by hand: version 2 stored and ended.
    await env.store.startItem(batchId, itemId);
    for (const i of [0, 1])
      await env.store.recordOutput(itemId, output(i, `acme/${batchId}/r-1/versions/2/${i}.png`, false));
    await env.store.endItem(batchId, itemId, { status: 'succeeded', costMicros: 268_000, images: 2 });
    const ended = await call(env.app, 'GET', `/v1/batches/${batchId}/items?status=succeeded`, {
      key: env.acme.key,
    });
    const regenerated = ended.json.data.find((i: { custom_id: string }) => i.custom_id === 'r-1');
    expect(regenerated.cost_usd).toBeCloseTo(0.536, 6);
    expect(regenerated.chosen).toEqual({ version: 2, index: null });
    expect(regenerated.outputs[0].key).toBe(`acme/${batchId}/r-1/versions/2/0.png`);

    const badChoice = await call(env.app, 'POST', `/v1/batches/${batchId}/items/r-1/choose`, {
      key: env.acme.key,
      body: { version: 3 },
    });
    expect(expectError(badChoice, 400, 'invalid_request').map((d) => d.path)).toEqual(['version']);
    const badIndex = await call(env.app, 'POST', `/v1/batches/${batchId}/items/r-1/choose`, {
      key: env.acme.key,
      body: { version: 1, index: 5 },
    });
    expect(expectError(badIndex, 400, 'invalid_request').map((d) => d.path)).toEqual(['index']);
    const empty = await call(env.app, 'POST', `/v1/batches/${batchId}/items/r-1/choose`, {
      key: env.acme.key,
      body: {},
    });
    expect(expectError(empty, 400, 'invalid_request').map((d) => d.path)).toEqual(['version']);
    const chosen = await call(env.app, 'POST', `/v1/batches/${batchId}/items/${itemId}/choose`, {
      key: env.acme.key,
      body: { version: 1, index: 1 },
    });
    expect(chosen.status).toBe(200);
    expect(chosen.json.chosen).toEqual({ version: 1, index: 1 });
    expect(chosen.json.outputs.map((o: { key: string }) => o.key)).toEqual([
      `acme/${batchId}/r-1/0.png`,
      `acme/${batchId}/r-1/1.png`,
    ]);
  });

  test("another tenant's key gets 404 on every route and changes nothing", async () => {
    const batchId = await completedBatch(['t-1']);
    const itemId = itemIdFor(batchId, 't-1');
    const before = await env.store.getItem(itemId);
    const routes: [string, string, unknown][] = [
      ['POST', `/v1/batches/${batchId}/items/review`, { custom_ids: ['t-1'], action: 'approve' }],
      ['POST', `/v1/batches/${batchId}/items/t-1/review`, { action: 'reject' }],
      ['POST', `/v1/batches/${batchId}/items/${itemId}/regenerate`, { prompt: 'mine now' }],
      ['POST', `/v1/batches/${batchId}/items/t-1/choose`, { version: 1, index: 0 }],
      ['GET', `/v1/batches/${batchId}/items?review=pending`, undefined],
    ];
    for (const [method, path, body] of routes) {
      const r = await call(env.app, method, path, { key: env.globex.key, ...(body ? { body } : {}) });
      expectError(r, 404, 'not_found');
    }
    // An item of another batch (of the same tenant) is not this batch's either.
    const other = await completedBatch(['t-1']);
    const cross = await call(env.app, 'POST', `/v1/batches/${other}/items/${itemId}/review`, {
      key: env.acme.key,
      body: { action: 'approve' },
    });
    expectError(cross, 404, 'not_found');
    expect(await env.store.getItem(itemId)).toEqual(before);
    expect(await env.queues.generate(MODEL).getJob(generateJobId(itemId, 1))).toBeUndefined();
  });
});
