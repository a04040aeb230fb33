/**
 * The `pixelmill` command as a user runs it, against a real API process and workers: submit a CSV with a
 * template and wait, download (resumable, checked by SHA-256), status, retry, cancel, models.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../support/processes.js';
import { call, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack({ workers: 2, sim: { latencyMs: { min: 20, max: 80 } } });
  dir = mkdtempSync(join(tmpdir(), 'pixelmill-cli-'));
});

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI's bin as a child process; resolves with its exit code and output. */
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

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('pixelmill CLI', () => {
  test('submit a CSV with a template and wait, then download (resumable), status and retry', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => `sku-${i},sneaker ${i},${i % 2 ? 'white' : 'grey'}`);
    writeFileSync(join(dir, 'catalog.csv'), ['custom_id,title,background', ...rows].join('\n'));
    const template = 'Studio photo of {{title}} on {{background}}, soft light [sim:64x64]';
    const submitted = await pixelmill(
      'submit',
      'catalog.csv',
      '--template',
      template,
      '--model',
      'gemini-3-pro-image',
      '--prefix',
      'cli/',
      '--wait',
      '--poll-ms',
      '200',
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    const batchId = /submitted (batch_[0-9a-z]+)/.exec(submitted.stdout)?.[1] as string;
    expect(batchId).toBeDefined();
    expect(submitted.stdout).toContain(`${batchId} completed: 10/10 succeeded`);

    // The same file and options again: the default Idempotency-Key gives the same batch, nothing new.
    const again = await pixelmill(
      'submit',
      'catalog.csv',
      '--template',
      template,
      '--model',
      'gemini-3-pro-image',
      '--prefix',
      'cli/',
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`submitted ${batchId}`);

    const first = await pixelmill('download', batchId, '--out', 'out', '--concurrency', '4');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('downloaded 10, already there 0, failed 0');
    const items = (await call(stack, stack.apiKey, 'GET', `/v1/batches/${batchId}/items?limit=100`)).json
      .data;
    for (const item of items) {
      const [out] = item.outputs;
      expect(out.key).toBe(`acme/cli/${batchId}/${item.custom_id}/0.png`);
      expect(sha256(readFileSync(join(dir, 'out', out.key)))).toBe(out.sha256);
    }
    expect(readFileSync(join(dir, 'out', `${batchId}-results.csv`), 'utf8').split('\n')[0]).toBe(
      'custom_id,item_id,status,model,output_keys,output_urls,error_code,error_message,cost_usd,reused_from,qa_status,qa_flags,review_status,reviewed_by,review_note,version,chosen_index',
    );

    // Resumable: files whose SHA-256 matches are skipped; a damaged one is fetched again.
    writeFileSync(join(dir, 'out', items[3].outputs[0].key), 'not an image');
    const second = await pixelmill('download', batchId, '--out', 'out');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('downloaded 1, already there 9, failed 0');
    expect(sha256(readFileSync(join(dir, 'out', items[3].outputs[0].key)))).toBe(items[3].outputs[0].sha256);

    const status = await pixelmill('status', batchId, '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      id: batchId,
      status: 'completed',
      counts: { succeeded: 10 },
    });
    const retry = await pixelmill('retry', batchId);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('queued again: 0 items');
  });

  test('cancel, models, and errors with their exit codes', async () => {
    const lines = [
      JSON.stringify({ custom_id: 'x-0', prompt: 'never mind [sim:64x64]' }),
      JSON.stringify({ custom_id: 'x-1', prompt: 'never mind either [sim:64x64]' }),
    ];
    writeFileSync(join(dir, 'items.ndjson'), lines.join('\n'));
    // Low priority and a deadline far away; cancelled at once.
    const submitted = await pixelmill(
      'submit',
      'items.ndjson',
      '--model',
      'gemini-3-pro-image',
      '--priority',
      'low',
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    const batchId = /submitted (batch_[0-9a-z]+)/.exec(submitted.stdout)?.[1] as string;
    const cancelled = await pixelmill('cancel', batchId);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toMatch(new RegExp(`${batchId} (cancelling|cancelled|completed)`));

    const models = await pixelmill('models');
    expect(models.code).toBe(0);
    expect(models.stdout).toContain('gemini-3-pro-image');

    writeFileSync(join(dir, 'bad.csv'), 'custom_id,prompt\na,ok\nb,\n');
    const bad = await pixelmill('submit', 'bad.csv', '--model', 'gemini-3-pro-image');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid_request');
    expect(bad.stderr).toContain('line 3: prompt: Required');
    expect((await pixelmill('frobnicate')).code).toBe(2);
  });
});
