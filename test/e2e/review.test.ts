/**
 * Output QA's review loop against the whole product (API and worker processes, Redis, s3rver, the
 * provider simulator over HTTP, signed webhooks): a batch whose qa policy regenerates flagged outputs,
 * then reviews, a requested regeneration with an edited prompt, a choice among versions and variants,
 * the batch's files in the bucket saying all of it, webhooks only to targets that subscribe, another
 * tenant refused, and `pixelmill download --approved`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localS3Credentials } from '@pixelmill/storage';
import { generateWebhookSecret } from '@pixelmill/webhooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLines, repoRoot, waitFor } from '../support/processes.js';
import { BUCKET, call, type Stack, startStack } from '../support/stack.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected field by field
type Json = any;

let stack: Stack;
let s3: S3Client;
let dir: string;
const secret = generateWebhookSecret();
const endpointSecret = generateWebhookSecret();
let batchHook: Awaited<ReturnType<typeof startWebhookReceiver>>;
let endpointHook: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  stack = await startStack({ workers: 1, sim: { latencyMs: { min: 20, max: 60 } } });
  batchHook = await startWebhookReceiver(secret);
  endpointHook = await startWebhookReceiver(endpointSecret);
  s3 = new S3Client({
    endpoint: stack.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: localS3Credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  dir = mkdtempSync(join(tmpdir(), 'pixelmill-review-'));
});

afterAll(async () => {
  s3?.destroy();
  await batchHook?.close();
  await endpointHook?.close();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function getObject(key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(
    await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  ).toString('utf8');
}

const acme = (method: string, path: string, body?: unknown) => call(stack, stack.apiKey, method, path, body);
const keyId = () => createHash('sha256').update(stack.apiKey).digest('hex').slice(0, 10);

async function completed(batchId: string, round = ''): Promise<Json> {
  return waitFor(
    `batch ${batchId} to complete ${round}`,
    async () => {
      const b = await acme('GET', `/v1/batches/${batchId}`);
      return b.json.status === 'completed' ? b.json : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 200 },
  );
}

async function itemsByCustomId(batchId: string, query = ''): Promise<Record<string, Json>> {
  const page = await acme('GET', `/v1/batches/${batchId}/items?limit=100${query}`);
  expect(page.status).toBe(200);
  return Object.fromEntries(page.json.data.map((i: Json) => [i.custom_id, i]));
}

function pixelmill(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'packages/cli/bin/pixelmill.mjs'), ...args], {
      cwd: dir,
      env: { ...process.env, PIXELMILL_API_URL: stack.apiUrl, PIXELMILL_API_KEY: stack.apiKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('QA policy, review, regenerate and choose end to end', () => {
  test('flagged outputs regenerate within the limit; reviews, a requested version and a choice reach the files, the webhooks that ask and the CLI', async () => {
    // A tenant endpoint that asks only for batch events: it must never get review events.
    const endpoint = await acme('POST', '/v1/webhook-endpoints', {
      url: endpointHook.url,
      secret: endpointSecret,
      events: ['batch.completed'],
    });
    expect(endpoint.status).toBe(201);
    const created = await acme('POST', '/v1/batches', {
      model: 'gemini-3-pro-image',
      qa: { on_flag: 'regenerate', max_regenerations: 1 },
      webhook: {
        url: batchHook.url,
        secret,
        events: ['batch.completed', 'item.reviewed', 'item.regenerated'],
      },
      output: { prefix: 'review/' },
      items: [
        { custom_id: 'shoe', prompt: 'a red leather shoe, studio light' },
        // Blank on its first image only: one regeneration clears the flag.
        { custom_id: 'lamp', prompt: 'a green desk lamp [blank:1]' },
        // Always blank: the one regeneration allowed does not clear it; the flagged output is kept.
        { custom_id: 'bell', prompt: 'a brass bell [blank]' },
        { custom_id: 'pair', prompt: 'a pair of canvas bags', n: 2 },
      ],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.qa).toEqual({ on_flag: 'regenerate', max_regenerations: 1 });
    const batchId: string = created.json.id;
    let batch = await completed(batchId);
    let items = await itemsByCustomId(batchId);

    expect(items.shoe.versions).toHaveLength(1);
    expect(items.lamp.versions.map((v: Json) => v.cause.reason)).toEqual(['initial', 'qa_flag']);
    expect(items.lamp.qa_status).toBe('passed');
    expect(items.lamp.outputs[0].key).toBe(`acme/review/${batchId}/lamp/versions/2/0.png`);
    expect(items.lamp.versions[0].outputs[0].key).toBe(`acme/review/${batchId}/lamp/0.png`);
    expect(items.bell.versions).toHaveLength(2);
    expect(items.bell.qa_status).toBe('flagged');
    // Every provider image is paid: 1 + 2 + 2 + 2, and the cost follows.
    expect(batch.images.generated).toBe(7);
    const perImage = items.shoe.cost_usd;
    expect(batch.cost.actual_usd).toBeCloseTo(7 * perImage, 6);
    expect(items.lamp.cost_usd).toBeCloseTo(2 * perImage, 6);
    expect(Object.keys(await itemsByCustomId(batchId, '&qa=flagged'))).toEqual(['bell']);

    // Reviews: many at once by custom_id, one by id with a note.
    const approved = await acme('POST', `/v1/batches/${batchId}/items/review`, {
      custom_ids: ['lamp', 'pair'],
      action: 'approve',
    });
    expect(approved.status).toBe(200);
    const rejected = await acme('POST', `/v1/batches/${batchId}/items/${items.bell.id}/review`, {
      action: 'reject',
      note: 'still blank',
    });
    expect(rejected.json.review).toMatchObject({ status: 'rejected', by: keyId(), note: 'still blank' });
    const shoe = await acme('POST', `/v1/batches/${batchId}/items/shoe/review`, { action: 'reject' });
    expect(shoe.json.review.status).toBe('rejected');

    // Another tenant: 404 everywhere, nothing changes.
    for (const [path, body] of [
      [`/v1/batches/${batchId}/items/review`, { custom_ids: ['bell'], action: 'approve' }],
      [`/v1/batches/${batchId}/items/bell/review`, { action: 'approve' }],
      [`/v1/batches/${batchId}/items/bell/regenerate`, { prompt: 'mine' }],
      [`/v1/batches/${batchId}/items/pair/choose`, { version: 1, index: 0 }],
    ] as const) {
      const r = await call(stack, stack.otherApiKey, 'POST', path, body);
      expect(r.status, path).toBe(404);
    }
    expect((await itemsByCustomId(batchId)).bell.review.status).toBe('rejected');

    // A requested regeneration with an edited prompt: a new version of the same custom_id.
    const regen = await acme('POST', `/v1/batches/${batchId}/items/bell/regenerate`, {
      prompt: 'a polished brass bell, studio light',
    });
    expect(regen.status, JSON.stringify(regen.json)).toBe(202);
    expect(regen.json).toMatchObject({ status: 'queued', version: 3, review: { status: 'pending' } });
    batch = await completed(batchId, 'again');
    items = await itemsByCustomId(batchId);
    expect(items.bell.versions.map((v: Json) => v.cause.reason)).toEqual(['initial', 'qa_flag', 'requested']);
    expect(items.bell.versions[2].cause).toEqual({ reason: 'requested', by: keyId(), changed: ['prompt'] });
    expect(items.bell.qa_status).toBe('passed');
    expect(items.bell.outputs[0].key).toBe(`acme/review/${batchId}/bell/versions/3/0.png`);
    expect(batch.images.generated).toBe(8);
    expect(batch.cost.actual_usd).toBeCloseTo(8 * perImage, 6);
    await acme('POST', `/v1/batches/${batchId}/items/bell/review`, { action: 'approve', note: 'fixed' });

    // Choose the second variant of the pair.
    const chosen = await acme('POST', `/v1/batches/${batchId}/items/pair/choose`, { version: 1, index: 1 });
    expect(chosen.status).toBe(200);
    expect(chosen.json.chosen).toEqual({ version: 1, index: 1 });

    // The manifest in the bucket says what was reviewed and chosen (rewritten after the changes).
    const manifestKey = `acme/review/${batchId}/manifest.jsonl`;
    const manifest = await waitFor(
      'the manifest to say every review',
      async () => {
        const lines = (await getObject(manifestKey))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        const byId = Object.fromEntries(lines.map((l: Json) => [l.custom_id, l]));
        return byId.bell?.review.status === 'approved' && byId.pair?.chosen.index === 1 ? byId : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(manifest.lamp.review.status).toBe('approved');
    expect(manifest.shoe.review.status).toBe('rejected');
    expect(manifest.bell.versions).toHaveLength(3);
    expect(manifest.bell.chosen).toEqual({ version: 3, index: null });
    const results = await waitFor(
      'results.csv to say every review',
      async () => {
        const text = await getObject(`acme/review/${batchId}/results.csv`);
        return text.includes('bell') && /bell,[^\n]*,approved,/.test(text) ? text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(results.split('\n')[0]).toContain('review_status,reviewed_by,review_note,version,chosen_index');

    // Webhooks: the batch's own target asked for review events and got them; the endpoint did not.
    await waitFor('the review and regeneration events', () => {
      const types = batchHook.received.map((w) => w.type);
      const reviewed = types.filter((t) => t === 'item.reviewed').length;
      const regenerated = types.filter((t) => t === 'item.regenerated').length;
      return reviewed >= 5 && regenerated >= 3 ? true : undefined;
    });
    const regenerated = batchHook.received.filter((w) => w.type === 'item.regenerated');
    expect(regenerated.map((w) => (w.payload.data as Json).custom_id).sort()).toEqual([
      'bell',
      'bell',
      'lamp',
    ]);
    expect(endpointHook.received.some((w) => w.type.startsWith('item.'))).toBe(false);
    expect(endpointHook.received.some((w) => w.type === 'batch.completed')).toBe(true);

    // The CLI downloads the approved items only, each its chosen output(s).
    const out = join(dir, 'approved');
    const dl = await pixelmill('download', batchId, '--approved', '--out', out);
    expect(dl.code, dl.stderr).toBe(0);
    expect(dl.stdout).toContain('downloaded 3,');
    expect(existsSync(join(out, `acme/review/${batchId}/lamp/versions/2/0.png`))).toBe(true);
    expect(existsSync(join(out, `acme/review/${batchId}/bell/versions/3/0.png`))).toBe(true);
    expect(existsSync(join(out, `acme/review/${batchId}/pair/1.png`))).toBe(true);
    expect(existsSync(join(out, `acme/review/${batchId}/pair/0.png`))).toBe(false);
    expect(existsSync(join(out, `acme/review/${batchId}/shoe/0.png`))).toBe(false);
    expect(readFileSync(join(out, `${batchId}-results.csv`), 'utf8')).toContain('approved');

    for (const service of [stack.api, ...stack.workers]) expect(errorLines(service)).toEqual([]);
  });
});
