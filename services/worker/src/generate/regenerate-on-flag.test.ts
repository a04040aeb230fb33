import { generateJobId, type Item, toMicros, versionKey } from '@pixelmill/core';
import { estimateCostUsd } from '@pixelmill/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Accepted,
  finishedItems,
  type Harness,
  MODEL,
  startHarness,
} from '../test-support/worker-harness.js';

/** Every batch below must end within this (a handful of 1K images from the simulator over HTTP). */
const DEADLINE_MS = 60_000;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ uploadRetryMs: 60_000 });
});

afterAll(async () => {
  await h?.close();
});

const finished = (a: Accepted) => finishedItems(h, a, DEADLINE_MS);

/** What `images` images of the simulated model cost, in micro-dollars. */
const micros = (images: number) => toMicros(estimateCostUsd(h.deps.registry.resolve(MODEL)!, '1K', images));

describe('batch qa.on_flag: regenerate (real Redis, s3rver, simulator over HTTP)', () => {
  it('regenerates flagged outputs as new versions within the limit, each paid, and keeps the last when still flagged', async () => {
    const regeneratedBefore = h.qaRegenerated();
    const batch = await h.submit('acme', ['normal', 'clears', 'stays'], {
      qa: { on_flag: 'regenerate', max_regenerations: 2 },
      prompts: {
        normal: 'a red leather shoe, studio light',
        // Blank on the first image only: one regeneration clears the flag.
        clears: 'a green lamp [blank:1]',
        // Always blank: two regenerations, then the flagged third version is kept.
        stays: 'a brass bell [blank]',
      },
    });
    const items = await finished(batch);
    const { normal, clears, stays } = items as Record<string, Item>;
    for (const item of [normal, clears, stays]) expect(item?.status).toBe('succeeded');

    expect(normal?.versions).toHaveLength(1);
    expect(normal?.cost_usd).toBeCloseTo(micros(1) / 1e6, 6);

    expect(clears?.versions.map((v) => v.cause.reason)).toEqual(['initial', 'qa_flag']);
    // Blank frames all hash alike, so a second one is also a near-duplicate of the first.
    expect(clears?.versions[1]?.cause).toMatchObject({ reason: 'qa_flag', indexes: [0] });
    expect(clears?.versions[1]?.cause).toHaveProperty('checks', expect.arrayContaining(['blank']));
    expect(clears?.version).toBe(2);
    expect(clears?.qa_status).toBe('passed');
    const first = clears?.versions[0]?.outputs[0];
    const second = clears?.outputs[0];
    expect(first?.qa?.status).toBe('flagged');
    expect(second?.key).toBe(versionKey(first?.key as string, 2));
    expect(second?.key).toMatch(/\/versions\/2\/0\.png$/);
    expect(second?.thumbnail_key).toMatch(/\/versions\/2\/0\.thumb\.webp$/);
    // Both versions are in the bucket: a regeneration never overwrites an earlier version.
    expect((await h.deps.objects.get(first?.key as string)).length).toBe(first?.bytes);
    expect((await h.deps.objects.get(second?.key as string)).length).toBe(second?.bytes);
    expect(clears?.cost_usd).toBeCloseTo(micros(2) / 1e6, 6);

    expect(stays?.versions.map((v) => v.cause.reason)).toEqual(['initial', 'qa_flag', 'qa_flag']);
    expect(stays?.qa_status).toBe('flagged');
    expect(stays?.outputs[0]?.key).toMatch(/\/versions\/3\/0\.png$/);
    expect(stays?.cost_usd).toBeCloseTo(micros(3) / 1e6, 6);

    // The batch's cost and image count include every regeneration.
    const found = await h.deps.store.getBatchInternal(batch.batchId);
    expect(found?.batch.images.generated).toBe(6);
    expect(found?.batch.cost.actual_usd).toBeCloseTo(micros(6) / 1e6, 6);
    // The worker's counter: one for clears, two for stays.
    expect(h.qaRegenerated() - regeneratedBefore).toBe(3);
    expect(h.logLines().filter((l) => l.level >= 50)).toEqual([]);
  });

  it('regenerates only the flagged variant of an item with n = 2; the other carries over', async () => {
    const batch = await h.submit('acme', ['pair'], {
      qa: { on_flag: 'regenerate', max_regenerations: 1 },
      n: 2,
      // One call returns both images: the first is blank, the second not.
      prompts: { pair: 'a copper pot [blank:1]' },
    });
    const { pair } = await finished(batch);
    expect(pair?.versions).toHaveLength(2);
    expect(pair?.versions[1]?.cause).toMatchObject({ reason: 'qa_flag', indexes: [0] });
    const [v1, v2] = pair?.versions ?? [];
    expect(v2?.outputs[0]?.key).toBe(versionKey(v1?.outputs[0]?.key as string, 2));
    expect(v2?.outputs[1]?.key).toBe(v1?.outputs[1]?.key);
    expect(pair?.qa_status).toBe('passed');
    expect(pair?.cost_usd).toBeCloseTo(micros(3) / 1e6, 6);
  });

  it('keeps flagged outputs without regenerating under the default policy', async () => {
    const batch = await h.submit('acme', ['kept'], { prompts: { kept: 'a tin cup [blank]' } });
    const { kept } = await finished(batch);
    expect(kept?.versions).toHaveLength(1);
    expect(kept?.qa_status).toBe('flagged');
    expect(kept?.cost_usd).toBeCloseTo(micros(1) / 1e6, 6);
  });

  it('a requested regeneration is generated anew at the next version, never copied by dedupe', async () => {
    const prompts = { first: 'a linen shirt, folded', twin: 'a linen shirt, folded' };
    const batch = await h.submit('acme', ['first'], { dedupe: true, prompts });
    const { first } = await finished(batch);
    // Another batch asks for the same picture: dedupe copies the first one's images.
    const copy = await h.submit('acme', ['twin'], { dedupe: true, prompts });
    const { twin } = await finished(copy);
    expect(twin?.reused_from?.item_id).toBe(first?.id);
    const r = await h.deps.store.regenerateItem(
      copy.batchId,
      twin!.id,
      {
        custom_id: 'twin',
        model: MODEL,
        prompt: prompts.twin,
        size: '1K',
        aspect_ratio: null,
        n: 1,
        reference_images: [],
        metadata: {},
      },
      { reason: 'requested', by: 'test', changed: [] },
    );
    if (r.state !== 'queued') throw new Error(`not queued: ${r.state}`);
    await h.deps.store.reopenBatch(copy.batchId);
    await h.deps.queues
      .generate(MODEL)
      .add(
        'generate',
        { batch_id: copy.batchId, item_id: twin!.id, tenant_id: 'acme' },
        { jobId: generateJobId(twin!.id, r.round) },
      );
    const again = (await finished(copy)).twin;
    expect(again?.version).toBe(2);
    expect(again?.reused_from).toBeNull();
    expect(again?.outputs[0]?.key).toBe(versionKey(twin?.outputs[0]?.key as string, 2));
    expect(again?.outputs[0]?.sha256).not.toBe(first?.outputs[0]?.sha256);
    // The copy cost nothing; the regeneration one image.
    expect(again?.cost_usd).toBeCloseTo(micros(1) / 1e6, 6);
  });
});
