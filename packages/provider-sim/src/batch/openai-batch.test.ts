import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from '../png.js';
import { type RunningSim, startSim } from '../server.js';
import { pngDims, until } from '../test-support/helpers.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ seed: 5, batch: { completionMs: 300 } });
});
afterAll(() => sim.close());

const auth = (key = 'sk-batch') => ({ authorization: `Bearer ${key}` });

async function call(method: string, path: string, body?: unknown, key?: string) {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { ...auth(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  return { status: res.status, json: (await res.json()) as any };
}

async function upload(lines: unknown[], key?: string): Promise<string> {
  const fd = new FormData();
  fd.append('purpose', 'batch');
  fd.append('file', new Blob([lines.map((l) => JSON.stringify(l)).join('\n')]), 'in.jsonl');
  const res = await fetch(`${sim.url}/v1/files`, { method: 'POST', headers: auth(key), body: fd });
  expect(res.status).toBe(200);
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  return ((await res.json()) as any).id;
}

const line = (id: string, prompt: string, extra: Record<string, unknown> = {}) => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/images/generations',
  body: { model: 'gpt-image-2', prompt, ...extra },
});

// biome-ignore lint/suspicious/noExplicitAny: response JSON lines
async function download(id: string, key?: string): Promise<any[]> {
  const res = await fetch(`${sim.url}/v1/files/${id}/content`, { headers: auth(key) });
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

async function create(
  fileId: string,
  metadata?: Record<string, string>,
  key?: string,
  endpoint = '/v1/images/generations',
) {
  return call(
    'POST',
    '/v1/batches',
    { input_file_id: fileId, endpoint, completion_window: '24h', metadata },
    key,
  );
}

/** A reference image uploaded as a file of purpose vision. */
async function uploadImage(key?: string): Promise<string> {
  const fd = new FormData();
  fd.append('purpose', 'vision');
  fd.append('file', new Blob([new Uint8Array(makePng(16, 16, 'ref'))], { type: 'image/png' }), 'ref.png');
  const res = await fetch(`${sim.url}/v1/files`, { method: 'POST', headers: auth(key), body: fd });
  expect(res.status).toBe(200);
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  return ((await res.json()) as any).id;
}

async function waitFor(id: string, statuses: string[], key?: string) {
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  let last: any;
  await until(async () => {
    last = (await call('GET', `/v1/batches/${id}`, undefined, key)).json;
    return statuses.includes(last.status);
  });
  return last;
}

describe('OpenAI Batch API (images)', () => {
  it('runs a file to completion: images in the output file, refused lines in the error file', async () => {
    const file = await upload([
      line('a', 'teapot [sim:32x24]', { n: 2 }),
      line('b', 'forbidden teapot'),
      line('c', 'cup', { size: '1000x1000' }),
      line('d', 'kettle [sim:16x16]'),
    ]);
    const created = await create(file, { pixelmill_job: 'j1' });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      object: 'batch',
      status: 'in_progress',
      metadata: { pixelmill_job: 'j1' },
      request_counts: { total: 4 },
    });
    const done = await waitFor(created.json.id, ['completed']);
    expect(done.request_counts).toEqual({ total: 4, completed: 2, failed: 2 });
    const out = await download(done.output_file_id);
    expect(out.map((l) => l.custom_id)).toEqual(['a', 'd']);
    expect(out[0].response.status_code).toBe(200);
    expect(out[0].response.body.data.map((d: { b64_json: string }) => pngDims(d.b64_json))).toEqual([
      { width: 32, height: 24 },
      { width: 32, height: 24 },
    ]);
    // Stable: a second download gives the same bytes.
    expect((await download(done.output_file_id))[1].response.body.data[0].b64_json).toBe(
      out[1].response.body.data[0].b64_json,
    );
    const errors = await download(done.error_file_id);
    expect(errors.map((l) => [l.custom_id, l.response.status_code, l.response.body.error.code])).toEqual([
      ['b', 400, 'moderation_blocked'],
      ['c', 400, 'invalid_value'],
    ]);
  });

  it('an expired batch returns what finished, the rest as batch_expired', async () => {
    await fetch(`${sim.url}/__config`, {
      method: 'POST',
      body: JSON.stringify({ batch: { completionMs: 400, expireAfterMs: 200 } }),
    });
    try {
      const file = await upload(Array.from({ length: 10 }, (_, i) => line(`x${i}`, `p${i} [sim:8x8]`)));
      const created = await create(file);
      const ended = await waitFor(created.json.id, ['expired']);
      const out = await download(ended.output_file_id);
      const errors = await download(ended.error_file_id);
      expect(out.length).toBe(5);
      expect(errors.length).toBe(5);
      expect(errors[0]).toMatchObject({ custom_id: 'x5', response: null, error: { code: 'batch_expired' } });
    } finally {
      await fetch(`${sim.url}/__config`, {
        method: 'POST',
        body: JSON.stringify({ batch: { completionMs: 300, expireAfterMs: 0 } }),
      });
    }
  });

  it('cancel ends the batch; list shows a key its own batches, newest first, with metadata', async () => {
    const key = 'sk-list';
    // Long enough that the batch is still running when cancelled, however slow the machine.
    await fetch(`${sim.url}/__config`, {
      method: 'POST',
      body: JSON.stringify({ batch: { completionMs: 60_000 } }),
    });
    const file = await upload([line('a', 'p [sim:8x8]')], key);
    const first = await create(file, { pixelmill: 'first' }, key);
    const second = await create(file, { pixelmill: 'second' }, key);
    await fetch(`${sim.url}/__config`, {
      method: 'POST',
      body: JSON.stringify({ batch: { completionMs: 300 } }),
    });
    const cancelled = await call('POST', `/v1/batches/${first.json.id}/cancel`, undefined, key);
    expect(cancelled.json.status).toBe('cancelled');
    const list = await call('GET', '/v1/batches?limit=1', undefined, key);
    expect(list.json.data.map((b: { metadata: unknown }) => b.metadata)).toEqual([{ pixelmill: 'second' }]);
    expect(list.json.has_more).toBe(true);
    const next = await call('GET', `/v1/batches?after=${second.json.id}`, undefined, key);
    expect(next.json.data.map((b: { id: string }) => b.id)).toEqual([first.json.id]);
    // Another key sees none of them.
    expect((await call('GET', `/v1/batches/${first.json.id}`)).status).toBe(404);
  });

  it('a lost create answers 503 but the batch exists (found by listing)', async () => {
    const key = 'sk-lost';
    await fetch(`${sim.url}/__config`, {
      method: 'POST',
      body: JSON.stringify({ batch: { createLostRate: 1 } }),
    });
    try {
      const file = await upload([line('a', 'p [sim:8x8]')], key);
      const lost = await create(file, { pixelmill_job: 'lost-1' }, key);
      expect(lost.status).toBe(503);
      const list = await call('GET', '/v1/batches', undefined, key);
      expect(list.json.data[0].metadata).toEqual({ pixelmill_job: 'lost-1' });
    } finally {
      await fetch(`${sim.url}/__config`, {
        method: 'POST',
        body: JSON.stringify({ batch: { createLostRate: 0 } }),
      });
    }
  });

  it('runs edits in the JSON form: images[] by file id (purpose vision) or URL; a bad reference fails its line', async () => {
    const ref = await uploadImage();
    const othersRef = await uploadImage('sk-other');
    const edit = (id: string, images: unknown) => ({
      custom_id: id,
      method: 'POST',
      url: '/v1/images/edits',
      body: { model: 'gpt-image-2', prompt: `edit ${id} [sim:16x16]`, images },
    });
    const file = await upload([
      edit('by-id', [{ file_id: ref }, { image_url: 'https://example.com/a.png' }]),
      edit('none', []),
      edit('not-mine', [{ file_id: othersRef }]),
    ]);
    const created = await create(file, undefined, undefined, '/v1/images/edits');
    expect(created.status).toBe(200);
    const done = await waitFor(created.json.id, ['completed']);
    const out = await download(done.output_file_id);
    expect(out.map((l) => l.custom_id)).toEqual(['by-id']);
    expect(pngDims(out[0].response.body.data[0].b64_json)).toEqual({ width: 16, height: 16 });
    const errors = await download(done.error_file_id);
    expect(errors.map((l) => [l.custom_id, l.response.status_code, l.response.body.error.param])).toEqual([
      ['none', 400, 'images'],
      ['not-mine', 400, 'images'],
    ]);
    const jobs = (await (await fetch(`${sim.url}/__batches`)).json()) as Array<{
      id: string;
      reference_images: number;
    }>;
    expect(jobs.find((j) => j.id === created.json.id)?.reference_images).toBe(2);
  });

  it('duplicate custom_ids fail the whole batch at validation', async () => {
    const file = await upload([line('a', 'p'), line('a', 'q')]);
    const created = await create(file);
    expect(created.json.status).toBe('failed');
    expect(created.json.errors.data[0].code).toBe('duplicate_custom_id');
  });
});

describe('files: expiry policy, listing and deletion', () => {
  async function uploadWith(fields: Record<string, string>, key = 'sk-files') {
    const fd = new FormData();
    fd.append('purpose', 'vision');
    for (const [k, v] of Object.entries(fields)) fd.append(k, v);
    fd.append('file', new Blob([new Uint8Array(makePng(8, 8, 'x'))], { type: 'image/png' }), 'x.png');
    const res = await fetch(`${sim.url}/v1/files`, { method: 'POST', headers: auth(key), body: fd });
    // biome-ignore lint/suspicious/noExplicitAny: response JSON
    return { status: res.status, json: (await res.json()) as any };
  }

  it('takes expires_after (created_at, 1 h to 30 days) and reports expires_at; refuses other values', async () => {
    const ok = await uploadWith({ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '86400' });
    expect(ok.status).toBe(200);
    expect(ok.json.expires_at - ok.json.created_at).toBe(86400);
    const none = await uploadWith({});
    expect(none.json.expires_at).toBeNull();
    for (const bad of [
      { 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '60' },
      { 'expires_after[anchor]': 'last_active_at', 'expires_after[seconds]': '86400' },
    ]) {
      const r = await uploadWith(bad);
      expect(r.status).toBe(400);
      expect(r.json.error.param).toBe('expires_after');
    }
  });

  it("lists a key's own files (by purpose) and deletes them; another key's files are not found", async () => {
    const mine = (await uploadWith({}, 'sk-lister')).json.id;
    const theirs = (await uploadWith({}, 'sk-other')).json.id;
    const listed = await call('GET', '/v1/files?purpose=vision', undefined, 'sk-lister');
    expect(listed.json.data.map((f: { id: string }) => f.id)).toEqual([mine]);
    expect((await call('DELETE', `/v1/files/${theirs}`, undefined, 'sk-lister')).status).toBe(404);
    const deleted = await call('DELETE', `/v1/files/${mine}`, undefined, 'sk-lister');
    expect(deleted.json).toEqual({ id: mine, object: 'file', deleted: true });
    expect((await call('GET', `/v1/files/${mine}`, undefined, 'sk-lister')).status).toBe(404);
    expect((await call('DELETE', `/v1/files/${mine}`, undefined, 'sk-lister')).status).toBe(404);
    expect((await call('GET', '/v1/files', undefined, 'sk-lister')).json.data).toEqual([]);
  });
});
