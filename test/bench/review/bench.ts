/**
 * Review listing benchmark (issue 17 part B): `pnpm bench:review`.
 *
 * `GET /v1/batches/{id}/items` with filters scans the batch's items inside Redis (scanItems-1.lua,
 * 5,000 items per call, reading only the filtered fields). On a 100,000-item batch in which nothing
 * matches (so every item is scanned), it times BatchStore.listItems with `status=failed` (one field),
 * `review=approved` (a field most items do not have: its default is read) and `qa=flagged` with
 * `review=pending` (two fields), against a baseline in the same run: the status-only scan the listing
 * used before review filters (one HGET per item, the same windows), run as a script here.
 *
 * Prints a Markdown table for BENCHMARKS.md and the raw numbers as JSON.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { BatchStore, itemIdFor, newBatchId } from '@pixelmill/core';
import { insertFedItems } from '@pixelmill/core/test-support';
import { Redis } from 'ioredis';
import { deletePrefix } from '../../support/redis-cleanup.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ITEMS = 100_000;
const RUNS = 7;
const WINDOW = 5000;

/** The status-only scan the listing used before review filters (scanStatus-1.lua as it was). */
const BASELINE_LUA = `
local pos = tonumber(ARGV[2])
local want = tonumber(ARGV[4])
local stop = pos + tonumber(ARGV[5])
local out = {0}
local found = 0
while pos < stop and found < want do
  local ids = redis.call('LRANGE', KEYS[1], pos, math.min(pos + 499, stop - 1))
  if #ids == 0 then break end
  for i = 1, #ids do
    pos = pos + 1
    if redis.call('HGET', ARGV[1] .. ids[i], 'status') == ARGV[3] then
      found = found + 1
      out[#out + 1] = ids[i]
      if found >= want then break end
    end
  end
end
out[1] = pos
return out`;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const prefix = `bench-review-${randomUUID().slice(0, 8)}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const store = new BatchStore(redis, prefix);
  try {
    const batchId = newBatchId();
    await store.insertBatch({
      id: batchId,
      tenantId: 'acme',
      spec: {
        model: 'sim-image',
        created_at: new Date().toISOString(),
        webhook: null,
        output: { prefix: '', format: 'png' },
        priority: 'normal',
        metadata: {},
        estimated_micros: 0,
        images_requested: ITEMS,
      },
    });
    for (let start = 0; start < ITEMS; start += 1000) {
      const chunk = Array.from({ length: 1000 }, (_, i) => {
        const customId = `sku-${start + i}`;
        return {
          id: itemIdFor(batchId, customId),
          spec: {
            custom_id: customId,
            model: 'sim-image',
            prompt: `Studio product shot ${start + i}`,
            size: '1K' as const,
            aspect_ratio: '1:1',
            n: 1,
            reference_images: [],
            metadata: {},
          },
        };
      });
      await insertFedItems(
        store,
        batchId,
        'acme',
        chunk.map((item, i) => ({ ...item, where: `items[${start + i}]` })),
      );
    }
    // Every item succeeded with a passing output, half of them approved: no filter below matches.
    const ids: string[] = [];
    for await (const window of store.itemIds(batchId, 5000)) ids.push(...window);
    for (let i = 0; i < ids.length; i += 5000) {
      const pipe = redis.pipeline();
      for (const [k, id] of ids.slice(i, i + 5000).entries()) {
        pipe.hset(store.keys.item(id), 'status', 'succeeded', 'qa_status', 'passed');
        if ((i + k) % 2 === 0) pipe.hset(store.keys.item(id), 'review_status', 'rejected');
      }
      await pipe.exec();
    }
    const listKey = store.keys.batchItems(batchId);
    const baseline = async () => {
      for (let pos = 0; pos < ITEMS; ) {
        const [next] = (await redis.eval(
          BASELINE_LUA,
          1,
          listKey,
          store.keys.item(''),
          pos,
          'failed',
          100,
          WINDOW,
        )) as [number];
        pos = Number(next);
      }
    };
    const cases: [string, () => Promise<unknown>][] = [
      ['baseline: status-only scan as before (HGET)', baseline],
      ['status=failed', () => store.listItems(batchId, { limit: 100, status: 'failed' })],
      ['review=approved', () => store.listItems(batchId, { limit: 100, review: 'approved' })],
      [
        'qa=flagged&review=pending',
        () => store.listItems(batchId, { limit: 100, qa: 'flagged', review: 'pending' }),
      ],
    ];
    const results: Record<string, number[]> = Object.fromEntries(cases.map(([name]) => [name, []]));
    for (let run = 0; run < RUNS; run++) for (const [name, fn] of cases) results[name]?.push(await time(fn));
    const base = median(results[cases[0]![0]]!);
    const rows = cases.map(([name]) => {
      const ms = results[name]!;
      return `| ${name} | ${ms.map((x) => x.toFixed(0)).join(' / ')} | ${median(ms).toFixed(0)} | ${(median(ms) / base).toFixed(2)} |`;
    });
    console.log(
      [
        `### Review listing filters (${new Date().toISOString().slice(0, 10)}, \`pnpm bench:review\`, load average ${loadavg()[0]?.toFixed(1)})`,
        '',
        `A ${ITEMS.toLocaleString('en')}-item batch in Redis, no item matching (the whole batch scanned, ${WINDOW.toLocaleString('en')} items per script call); ${RUNS} runs each, interleaved.`,
        '',
        '| listing | ms per run | median ms | vs baseline |',
        '|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
    console.log(JSON.stringify(results));
  } finally {
    await deletePrefix(REDIS_URL, prefix);
    redis.disconnect();
  }
}

await main();
