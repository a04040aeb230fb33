import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Harness, sdkError, startHarness } from '../test-support/worker-harness.js';

/** Long enough that retrying every failed PUT with the gate closed would miss every deadline below. */
const UPLOAD_RETRY_MS = 10 * 60_000;
/** Each item below must end within this; far below UPLOAD_RETRY_MS. */
const DEADLINE_MS = 20_000;

let h: Harness;
let gateClosures: number;

beforeAll(async () => {
  h = await startHarness({ uploadRetryMs: UPLOAD_RETRY_MS });
  const gate = h.deps.uploads;
  const original = gate.uploadRetrying.bind(gate);
  gate.uploadRetrying = () => {
    gateClosures += 1;
    return original();
  };
});

afterAll(async () => {
  await h?.close();
});

beforeEach(() => {
  gateClosures = 0;
  h.setPutFault(undefined);
});

const itemOf = async (itemId: string) => {
  const item = await h.deps.store.getItem(itemId);
  if (item === null) throw new Error(`item ${itemId} is missing`);
  return item;
};

const waitForItem = (itemId: string, statuses: string[]) =>
  vi.waitFor(
    async () => {
      const item = await itemOf(itemId);
      if (!statuses.includes(item.status)) throw new Error(`item ${itemId} is ${item.status}`);
      return item;
    },
    { timeout: DEADLINE_MS, interval: 50 },
  );

const waitForBatchEnd = (batchId: string) =>
  vi.waitFor(
    async () => {
      const found = await h.deps.store.getBatchInternal(batchId);
      if (!found?.batch.completed_at) throw new Error(`batch ${batchId} is ${found?.batch.status}`);
      return found.batch;
    },
    { timeout: DEADLINE_MS, interval: 50 },
  );

const png = () =>
  sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();

describe('an upload S3 refuses for its key fails only its item', () => {
  it('fails the item at once with storage_rejected, drops its bytes, and never holds another tenant back', async () => {
    h.setPutFault((key) => {
      if (key.includes('/refuse-me/')) throw sdkError('KeyTooLongError', 400, 'Your key is too long');
    });
    const started = Date.now();
    const bad = await h.submit('acme', ['refuse-me']);
    const badItem = bad.itemIds['refuse-me'] as string;
    await vi.waitFor(
      () => {
        if (![...h.puts.keys()].some((k) => k.includes('/refuse-me/'))) throw new Error('no PUT yet');
      },
      { timeout: DEADLINE_MS, interval: 20 },
    );
    // Another tenant's one-item batch, submitted once the refusal happened: it must not wait for it.
    const other = await h.submit('globex', ['fine-1']);

    const failed = await waitForItem(badItem, ['failed']);
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS);
    expect(failed.error).toEqual({
      code: 'storage_rejected',
      message: expect.stringContaining('KeyTooLongError'),
      retryable: false,
    });
    expect(failed.error?.message).toContain(`${bad.batchId}/refuse-me/0.png`);
    const key = [...h.puts.keys()].find((k) => k.includes('/refuse-me/')) as string;
    expect(h.puts.get(key), 'a refused PUT is not retried').toBe(1);
    expect(await h.deps.spool.indexes(bad.batchId, 'refuse-me')).toEqual([]);
    expect((await waitForBatchEnd(bad.batchId)).counts).toMatchObject({ failed: 1, succeeded: 0 });

    const fine = await waitForItem(other.itemIds['fine-1'] as string, ['succeeded']);
    expect(fine.outputs).toHaveLength(1);
    expect(gateClosures, 'the upload gate never closed').toBe(0);
    expect(h.deps.uploads.storageFailing).toBe(false);
    expect(h.logLines().filter((l) => l.level >= 50)).toEqual([]);
  });

  it('fails an item whose spooled image S3 refuses, without generating it again', async () => {
    h.setPutFault((key) => {
      if (key.includes('/refuse-spooled/')) throw sdkError('InvalidArgument', 400);
    });
    const bad = await h.submit('acme', ['refuse-spooled'], { enqueue: false });
    await h.deps.spool.save({ batchId: bad.batchId, customId: 'refuse-spooled', index: 0 }, await png());
    await h.enqueue(bad);

    const failed = await waitForItem(bad.itemIds['refuse-spooled'] as string, ['failed']);
    expect(failed.error?.code).toBe('storage_rejected');
    expect(await h.deps.spool.indexes(bad.batchId, 'refuse-spooled')).toEqual([]);
    expect(h.sim.stats().successesByPrompt[failed.prompt] ?? 0, 'no provider call').toBe(0);
    await waitForBatchEnd(bad.batchId);
    expect(gateClosures).toBe(0);
  });

  it('stores an output without its thumbnail when only the thumbnail key is refused', async () => {
    h.setPutFault((key) => {
      if (key.includes('/thumb-refused/') && key.endsWith('.thumb.webp'))
        throw sdkError('KeyTooLongError', 400);
    });
    const batch = await h.submit('acme', ['thumb-refused']);
    const item = await waitForItem(batch.itemIds['thumb-refused'] as string, ['succeeded']);
    expect(item.outputs).toHaveLength(1);
    expect(item.outputs[0]?.thumbnail_key).toBeUndefined();
    const thumb = [...h.puts.keys()].find((k) => k.includes('/thumb-refused/') && k.endsWith('.thumb.webp'));
    expect(h.puts.get(thumb as string), 'a refused thumbnail is not retried').toBe(1);
    expect(gateClosures).toBe(0);
  });

  it('still retries with the gate closed while S3 is unwell (503 SlowDown), then stores the image', async () => {
    let failures = 0;
    h.setPutFault((key) => {
      if (key.includes('/flaky-1/') && failures < 3) {
        failures += 1;
        throw sdkError('SlowDown', 503, 'Please reduce your request rate.');
      }
    });
    const batch = await h.submit('acme', ['flaky-1']);
    const item = await waitForItem(batch.itemIds['flaky-1'] as string, ['succeeded']);
    expect(item.outputs).toHaveLength(1);
    expect(failures).toBe(3);
    expect(gateClosures, 'the gate closed once for the failing upload').toBe(1);
    expect(h.deps.uploads.storageFailing).toBe(false);
  });
});

describe('spooled images of a cancelled batch are dropped, never uploaded', () => {
  it('a resumed item (its runner stopped) of a cancelled batch ends cancelled and its spool is removed', async () => {
    const batch = await h.submit('acme', ['resumed-1'], { enqueue: false });
    const itemId = batch.itemIds['resumed-1'] as string;
    // An earlier runner started the item, spooled its image, and stopped (its lease lapses at once).
    expect((await h.deps.store.startItem(batch.batchId, itemId, { runner: 'gone', ms: 1 })).state).toBe(
      'started',
    );
    await h.deps.spool.save({ batchId: batch.batchId, customId: 'resumed-1', index: 0 }, await png());
    expect(await h.deps.store.requestCancel(batch.batchId)).toBe(true);
    await h.enqueue(batch);

    const item = await waitForItem(itemId, ['cancelled']);
    expect(item.outputs).toEqual([]);
    expect(await h.deps.spool.indexes(batch.batchId, 'resumed-1')).toEqual([]);
    expect([...h.puts.keys()].filter((k) => k.includes('/resumed-1/'))).toEqual([]);
    expect((await waitForBatchEnd(batch.batchId)).status).toBe('cancelled');
  });

  it('a queued item of a cancelled batch is turned away and its spool is removed', async () => {
    const batch = await h.submit('acme', ['queued-1'], { enqueue: false });
    await h.deps.spool.save({ batchId: batch.batchId, customId: 'queued-1', index: 0 }, await png());
    expect(await h.deps.store.requestCancel(batch.batchId)).toBe(true);
    await h.enqueue(batch);

    await waitForItem(batch.itemIds['queued-1'] as string, ['cancelled']);
    await vi.waitFor(
      async () => {
        if ((await h.deps.spool.indexes(batch.batchId, 'queued-1')).length > 0)
          throw new Error('still spooled');
      },
      { timeout: DEADLINE_MS, interval: 50 },
    );
    expect([...h.puts.keys()].filter((k) => k.includes('/queued-1/'))).toEqual([]);
  });
});
