import { itemIdFor, newBatchId } from '@pixelmill/core';
import { insertFedItems, testBatchSpec, testItemSpec } from '@pixelmill/core/test-support';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestEnv, type TestEnv } from './test-support/deps.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
  await env.redis.ping();
});

afterAll(async () => {
  await env?.close();
});

const MODEL = 'gemini-3-pro-image';
const spec = testBatchSpec({ model: MODEL, images_requested: 2 });
const itemSpec = (customId: string) => testItemSpec(customId, { model: MODEL });

describe('GET /v1/batches/{id}/results', () => {
  test('client text that starts a formula is quoted with a leading apostrophe; normal cells are unchanged', async () => {
    const batchId = newBatchId();
    // Stored directly: the API's custom_id rule refuses these today, older or imported items may not.
    const ids = ['=HYPERLINK("x")', 'sku-1'];
    await env.store.insertBatch({ id: batchId, tenantId: env.acme.id, spec });
    await insertFedItems(
      env.store,
      batchId,
      env.acme.id,
      ids.map((c) => ({ id: itemIdFor(batchId, c), spec: itemSpec(c), where: c })),
    );
    await env.store.publishBatch(batchId, env.acme.id);
    await env.store.endItem(batchId, itemIdFor(batchId, ids[0]!), {
      status: 'failed',
      error: { code: 'invalid_prompt', message: '-1 is not a prompt', retryable: false },
      costMicros: 0,
      images: 0,
    });

    const res = await env.app.request(`http://api.test/v1/batches/${batchId}/results`, {
      headers: { authorization: `Bearer ${env.acme.key}` },
    });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trimEnd().split('\n');
    expect(lines[1]).toBe(
      `"'=HYPERLINK(""x"")",${itemIdFor(batchId, ids[0]!)},failed,gemini-3-pro-image,,,invalid_prompt,'-1 is not a prompt,0,,,,pending,,,1,`,
    );
    expect(lines[2]).toBe(
      `sku-1,${itemIdFor(batchId, 'sku-1')},queued,gemini-3-pro-image,,,,,0,,,,pending,,,1,`,
    );
  });
});
