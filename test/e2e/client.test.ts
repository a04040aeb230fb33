/**
 * @pixelmill/client against the whole product (API and workers as processes, s3rver, the simulator):
 * the consumer flow in packages/client/examples/flow.ts type-checks with `tsc --noEmit` (no casts in
 * it) and runs: JSON, NDJSON and CSV batches, paging, cancel, retry, endpoints, deliveries, errors.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@pixelmill/client';
import { runFlow } from '@pixelmill/client/examples/flow';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot, waitFor } from '../support/processes.js';
import { type Stack, startStack } from '../support/stack.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

const FLOW = join(repoRoot, 'packages/client/examples/flow.ts');
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwZ1nBvC3dE4f=';

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  stack = await startStack({ workers: 1 });
  receiver = await startWebhookReceiver(SECRET);
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

describe('@pixelmill/client', () => {
  test('the flow file type-checks with tsc --noEmit and has no casts', () => {
    // The code without its comments: no `x as T`, no `<T>x`, no suppressed errors.
    const raw = readFileSync(FLOW, 'utf8');
    expect(raw).not.toMatch(/@ts-(ignore|expect-error|nocheck)|: any\b/);
    const code = raw.replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    expect(code).not.toMatch(/\bas\s+(?!const\b)[A-Za-z{[(]/);
    // packages/client's tsconfig covers examples/ (the flow) beside the client's own sources.
    const tsc = spawnSync(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--noEmit'], {
      cwd: join(repoRoot, 'packages/client'),
      encoding: 'utf8',
    });
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.status).toBe(0);
  });

  test('runs the flow against the API', async () => {
    const client = createClient({ baseUrl: stack.apiUrl, apiKey: stack.apiKey });
    const report = await runFlow(client, {
      model: 'gemini-3-pro-image',
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      waitEnded: async (id) => {
        await waitFor(`batch ${id} to end`, async () => {
          const b = await client.getBatch(id);
          return ['queued', 'running', 'cancelling'].includes(b.status) ? undefined : b;
        });
      },
      blockWords: async (words) => {
        const res = await fetch(`${stack.sim.url}/__config`, {
          method: 'POST',
          body: JSON.stringify({ blockedWords: words }),
        });
        expect(res.status).toBe(200);
      },
    });
    expect(report.models).toContain('gemini-3-pro-image');
    expect(report.jsonBatch).toMatchObject({ replayed: true, sameIdOnReplay: true });
    expect(report.pagedItems).toEqual(['json-1', 'json-2', 'json-3', 'json-4', 'json-5']);
    expect(report.failedBeforeRetry).toBe(2);
    expect(report.retried).toBe(2);
    expect(report.succeededAfterRetry).toBe(5);
    expect(report.resultsHeader).toMatch(/^custom_id,/);
    expect(report.ndjsonItems).toBe(3);
    expect(report.csvItems).toBe(2);
    expect(['cancelling', 'cancelled', 'completed']).toContain(report.cancelledStatus);
    expect(report.listedBatchIds).toHaveLength(3);
    expect(report.listedBatchIds).toContain(report.jsonBatch.id);
    expect(report.deliveries).toBeGreaterThan(0);
    expect(['pending', 'succeeded']).toContain(report.redeliveredStatus);
    expect(report.rotatedSecretPrefix).toBe('whsec_');
    expect(report.endpointEvents).toContain('item.failed');
    expect(report.errors).toEqual([
      { status: 400, code: 'invalid_request', paths: ['items[0].n'] },
      { status: 404, code: 'not_found', paths: [] },
      { status: 409, code: 'idempotency_conflict', paths: [] },
    ]);
    // The receiver verified what the endpoint was sent.
    await waitFor('item and batch events at the receiver', () =>
      receiver.received.some((w) => w.type === 'batch.completed') ? true : undefined,
    );
    expect(receiver.rejected).toBe(0);
  });
});
