import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSim, startSim } from '../server.js';
import { geminiBody, pngDims, until } from '../test-support/helpers.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ seed: 9, batch: { completionMs: 300 } });
});
afterAll(() => sim.close());

const KEY = 'g-batch';

async function call(method: string, path: string, body?: unknown, key = KEY) {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  return { status: res.status, json: (await res.json()) as any };
}

/** The resumable protocol: a start, then the bytes in two chunks, the last one finalizing. */
async function upload(lines: unknown[], key = KEY): Promise<string> {
  const bytes = Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n'));
  const start = await fetch(`${sim.url}/upload/v1beta/files`, {
    method: 'POST',
    headers: {
      'x-goog-api-key': key,
      'content-type': 'application/json',
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-length': String(bytes.length),
      'x-goog-upload-header-content-type': 'application/jsonl',
    },
    body: JSON.stringify({ file: { displayName: 'in.jsonl' } }),
  });
  const url = start.headers.get('x-goog-upload-url');
  expect(url).toBeTruthy();
  const half = Math.floor(bytes.length / 2);
  const first = await fetch(url!, {
    method: 'POST',
    headers: { 'x-goog-api-key': key, 'x-goog-upload-command': 'upload', 'x-goog-upload-offset': '0' },
    body: bytes.subarray(0, half),
  });
  expect(first.headers.get('x-goog-upload-status')).toBe('active');
  const last = await fetch(url!, {
    method: 'POST',
    headers: {
      'x-goog-api-key': key,
      'x-goog-upload-command': 'upload, finalize',
      'x-goog-upload-offset': String(half),
    },
    body: bytes.subarray(half),
  });
  expect(last.headers.get('x-goog-upload-status')).toBe('final');
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  return ((await last.json()) as any).file.name;
}

const line = (key: string, prompt: string, imageConfig?: Record<string, string>) => ({
  key,
  request: geminiBody(prompt, imageConfig),
});

async function create(file: string, displayName: string, model = 'gemini-3.1-flash-image', key = KEY) {
  return call(
    'POST',
    `/v1beta/models/${model}:batchGenerateContent`,
    { batch: { displayName, inputConfig: { fileName: file } } },
    key,
  );
}

async function waitFor(name: string, states: string[], key = KEY) {
  // biome-ignore lint/suspicious/noExplicitAny: response JSON
  let last: any;
  await until(async () => {
    last = (await call('GET', `/v1beta/${name}`, undefined, key)).json;
    return states.includes(last.metadata.state);
  });
  return last;
}

// biome-ignore lint/suspicious/noExplicitAny: response JSON lines
async function download(file: string, key = KEY): Promise<any[]> {
  const res = await fetch(`${sim.url}/download/v1beta/${file}:download?alt=media`, {
    headers: { 'x-goog-api-key': key },
  });
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

describe('Gemini Batch API', () => {
  it('runs a file to SUCCEEDED: a responses file in input order with images and per-line errors', async () => {
    const file = await upload([
      line('k1', 'vase [sim:24x16]'),
      line('k2', 'nsfw vase'),
      line('k3', 'bowl', { aspectRatio: '7:3' }),
      line('k4', 'plate', { aspectRatio: '16:9', imageSize: '512' }),
    ]);
    const created = await create(file, 'pixelmill:b1:j1');
    expect(created.status).toBe(200);
    expect(created.json.name).toMatch(/^batches\//);
    expect(created.json.metadata).toMatchObject({ displayName: 'pixelmill:b1:j1' });
    const done = await waitFor(created.json.name, ['BATCH_STATE_SUCCEEDED']);
    expect(done.done).toBe(true);
    expect(done.metadata.batchStats).toMatchObject({ requestCount: '4', successfulRequestCount: '2' });
    const out = await download(done.metadata.output.responsesFile);
    expect(out.map((l) => l.key)).toEqual(['k1', 'k2', 'k3', 'k4']);
    const image = (l: {
      response: { candidates: Array<{ content: { parts: Array<{ inlineData?: { data: string } }> } }> };
    }) => l.response.candidates[0]!.content.parts.find((p) => p.inlineData)!.inlineData!.data;
    expect(pngDims(image(out[0]))).toEqual({ width: 24, height: 16 });
    expect(pngDims(image(out[3]))).toEqual({ width: 512, height: 288 });
    expect(out[1].response.candidates[0].finishReason).toBe('IMAGE_SAFETY');
    expect(out[2].error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
  });

  it('an expired job keeps the lines that finished; cancel ends a running one', async () => {
    await fetch(`${sim.url}/__config`, {
      method: 'POST',
      body: JSON.stringify({ batch: { completionMs: 400, expireAfterMs: 100 } }),
    });
    let expiring: string;
    try {
      const file = await upload(Array.from({ length: 8 }, (_, i) => line(`e${i}`, `p${i} [sim:8x8]`)));
      expiring = (await create(file, 'pixelmill:exp')).json.name;
    } finally {
      await fetch(`${sim.url}/__config`, {
        method: 'POST',
        body: JSON.stringify({ batch: { completionMs: 60_000, expireAfterMs: 0 } }),
      });
    }
    const expired = await waitFor(expiring, ['BATCH_STATE_EXPIRED']);
    expect((await download(expired.metadata.output.responsesFile)).map((l) => l.key)).toEqual(['e0', 'e1']);

    const file = await upload([line('c1', 'p [sim:8x8]')]);
    const running = (await create(file, 'pixelmill:cancel')).json.name;
    expect((await call('POST', `/v1beta/${running}:cancel`)).status).toBe(200);
    const cancelled = await waitFor(running, ['BATCH_STATE_CANCELLED']);
    expect(cancelled.done).toBe(true);
    await fetch(`${sim.url}/__config`, {
      method: 'POST',
      body: JSON.stringify({ batch: { completionMs: 300 } }),
    });
  });

  it('lists a key its own jobs newest first, so an orphan is found by its display name', async () => {
    const key = 'g-list';
    const file = await upload([line('a', 'p [sim:8x8]')], key);
    await create(file, 'pixelmill:one', 'gemini-3.1-flash-image', key);
    await create(file, 'pixelmill:two', 'gemini-3.1-flash-image', key);
    const page = await call('GET', '/v1beta/batches?pageSize=1', undefined, key);
    expect(
      page.json.operations.map((o: { metadata: { displayName: string } }) => o.metadata.displayName),
    ).toEqual(['pixelmill:two']);
    const next = await call(
      'GET',
      `/v1beta/batches?pageSize=1&pageToken=${page.json.nextPageToken}`,
      undefined,
      key,
    );
    expect(next.json.operations[0].metadata.displayName).toBe('pixelmill:one');
    expect(
      (await call('GET', '/v1beta/batches')).json.operations.some(
        (o: { metadata: { displayName: string } }) => o.metadata.displayName === 'pixelmill:one',
      ),
    ).toBe(false);
  });

  it('refuses a missing key, an unknown model and a file of another key', async () => {
    const res = await fetch(`${sim.url}/v1beta/batches`);
    expect(res.status).toBe(403);
    expect((await create('files/none', 'x', 'gemini-9')).status).toBe(404);
    const file = await upload([line('a', 'p')], 'g-other');
    expect((await create(file, 'x')).status).toBe(404);
  });
});
