import { BatchStore, itemIdFor, newBatchId } from '@pixelmill/core';
import { testBatchSpec, testItemSpec, useTestRedis } from '@pixelmill/core/test-support';
import type { S3Store } from '@pixelmill/storage';
import { useTestBucket } from '@pixelmill/storage/test-support';
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, test } from 'vitest';
import { resultsCsv } from './results.js';

const BUCKET = 'pixelmill-results-test';
const db = useTestRedis('worker-results');
const { prefix } = db;
const bucket = useTestBucket(BUCKET);
let redis: Redis;
let store: BatchStore;
let objects: S3Store;

beforeAll(() => {
  redis = db.redis;
  store = new BatchStore(redis, prefix);
  objects = bucket.objects;
});

const spec = testBatchSpec({ images_requested: 2 });
const itemSpec = (customId: string) => testItemSpec(customId);

describe('results.csv in the bucket', () => {
  test('client text that starts a formula is quoted with a leading apostrophe; normal cells are unchanged', async () => {
    const batchId = newBatchId();
    // Stored directly: the API's custom_id rule refuses these today, older or imported items may not.
    const ids = ['=HYPERLINK("x")', 'sku-1'];
    await store.insertBatch({ id: batchId, tenantId: 'acme', spec });
    await store.insertChunk(
      batchId,
      'acme',
      ids.map((c) => ({ id: itemIdFor(batchId, c), spec: itemSpec(c), where: c })),
      true,
    );
    await store.publishBatch(batchId, 'acme');
    await store.endItem(batchId, itemIdFor(batchId, ids[0]!), {
      status: 'failed',
      error: { code: 'invalid_prompt', message: '@SUM(A1) is not allowed', retryable: false },
      costMicros: 0,
      images: 0,
    });
    await store.endItem(batchId, itemIdFor(batchId, ids[1]!), {
      status: 'succeeded',
      costMicros: 0,
      images: 0,
    });

    const key = `${batchId}/results.csv`;
    await objects.putStream(
      key,
      resultsCsv(store, batchId, (k) => objects.presignGet(k, 60)),
      'text/csv',
    );
    const lines = (await objects.get(key)).toString('utf8').trimEnd().split('\n');

    expect(lines[0]).toBe(
      'custom_id,item_id,status,model,output_keys,output_urls,error_code,error_message,cost_usd,reused_from,qa_status,qa_flags,review_status,reviewed_by,review_note,version,chosen_index',
    );
    expect(lines[1]).toBe(
      `"'=HYPERLINK(""x"")",${itemIdFor(batchId, ids[0]!)},failed,sim-image,,,invalid_prompt,'@SUM(A1) is not allowed,0,,,,pending,,,1,`,
    );
    expect(lines[2]).toBe(`sku-1,${itemIdFor(batchId, 'sku-1')},succeeded,sim-image,,,,,0,,,,pending,,,1,`);
  });

  test('qa_status and qa_flags say which outputs were flagged and by which check', async () => {
    const batchId = newBatchId();
    const ids = ['flagged', 'clean', 'unchecked'];
    await store.insertBatch({ id: batchId, tenantId: 'acme', spec });
    await store.insertChunk(
      batchId,
      'acme',
      ids.map((c) => ({ id: itemIdFor(batchId, c), spec: { ...itemSpec(c), n: 2 }, where: c })),
      true,
    );
    await store.publishBatch(batchId, 'acme');
    const output = (c: string, index: number, flagged: ('blank' | 'duplicate')[] | null) => ({
      index,
      key: `${batchId}/${c}/${index}.png`,
      content_type: 'image/png',
      width: 1024,
      height: 1024,
      bytes: 1,
      sha256: 'x',
      ...(flagged === null
        ? {}
        : {
            qa: {
              status: flagged.length > 0 ? ('flagged' as const) : ('passed' as const),
              checks: (['blank', 'duplicate'] as const).map((name) => ({
                name,
                passed: !flagged.includes(name),
                value: 0,
              })),
              dhash: '0000000000000000',
            },
          }),
    });
    const outputs = {
      flagged: [['blank'], ['blank', 'duplicate']],
      clean: [[], []],
      unchecked: [null, null],
    } as const;
    for (const c of ids) {
      for (const [index, f] of outputs[c as keyof typeof outputs].entries()) {
        await store.recordOutput(itemIdFor(batchId, c), output(c, index, f === null ? null : [...f]));
      }
      await store.endItem(batchId, itemIdFor(batchId, c), { status: 'succeeded', costMicros: 0, images: 2 });
    }
    const key = `${batchId}/results.csv`;
    await objects.putStream(
      key,
      resultsCsv(store, batchId, async (k) => k),
      'text/csv',
    );
    const rows = (await objects.get(key)).toString('utf8').trimEnd().split('\n').slice(1);
    expect(rows.map((r) => r.split(',').slice(10, 12))).toEqual([
      ['flagged', '0:blank|1:blank|1:duplicate'],
      ['passed', ''],
      ['', ''],
    ]);
  });
});
