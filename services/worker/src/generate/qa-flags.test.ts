import type { Item } from '@pixelmill/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accepted, finishedItems, type Harness, startHarness } from '../test-support/worker-harness.js';

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

const flagsOf = (item: Item | undefined) =>
  item?.outputs[0]?.qa?.checks.filter((c) => !c.passed).map((c) => c.name);

describe('output QA in the worker (real Redis, s3rver, simulator over HTTP)', () => {
  it('flags blank, duplicate and wrong-aspect outputs, none of the normal ones, and stores every image', async () => {
    const ids = ['normal-1', 'normal-2', 'blank', 'dup-a', 'dup-b', 'wide'];
    const batch = await h.submit('acme', ids, {
      aspectRatio: '1:1',
      prompts: {
        'normal-1': 'a red leather shoe, studio light',
        'normal-2': 'a blue canvas bag, studio light',
        blank: 'a green lamp [blank]',
        'dup-a': 'a steel kettle, front [duplicate:kettle]',
        'dup-b': 'a steel kettle, side [duplicate:kettle]',
        wide: 'a wooden bench [sim:1024x512]',
      },
    });
    const items = await finished(batch);

    for (const id of ids) {
      const item = items[id];
      // A flag never fails the item: every image is stored, with its thumbnail, and has a QA result.
      expect(item?.status).toBe('succeeded');
      expect(item?.outputs).toHaveLength(1);
      const out = item?.outputs[0];
      expect(out?.thumbnail_key).toBeDefined();
      expect((await h.deps.objects.get(out?.key as string)).length).toBe(out?.bytes);
      expect(out?.qa?.dhash).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(flagsOf(items['normal-1'])).toEqual([]);
    expect(flagsOf(items['normal-2'])).toEqual([]);
    expect(items['normal-1']?.outputs[0]?.qa?.status).toBe('passed');
    expect(flagsOf(items.blank)).toEqual(['blank']);
    expect(flagsOf(items.wide)).toEqual(['aspect_ratio']);
    // Of two near-identical outputs, the one stored second is flagged and names the first.
    const dups = [items['dup-a'], items['dup-b']].map((i) => flagsOf(i));
    expect(dups.sort()).toEqual([[], ['duplicate']]);
    const flagged = [items['dup-a'], items['dup-b']].find((i) => i?.outputs[0]?.qa?.status === 'flagged');
    const other = flagged?.custom_id === 'dup-a' ? 'dup-b' : 'dup-a';
    expect(flagged?.outputs[0]?.qa?.checks.find((c) => c.name === 'duplicate')).toMatchObject({
      passed: false,
      of: { custom_id: other, index: 0 },
    });
    expect([...h.qaFlags].sort()).toEqual(['aspect_ratio', 'blank', 'duplicate']);
    // A flag is information, not an error.
    expect(h.logLines().filter((l) => l.level >= 50)).toEqual([]);
  });

  it("compares only within one tenant's batch", async () => {
    const prompts = { 'dup-c': 'a steel kettle, top [duplicate:kettle]' };
    const before = h.qaFlags.length;
    // The same picture as above, in another tenant's batch and in another batch of the same tenant.
    const [globex, acme] = await Promise.all([
      h.submit('globex', ['dup-c'], { prompts }),
      h.submit('acme', ['dup-c'], { prompts }),
    ]);
    for (const items of [await finished(globex), await finished(acme)]) {
      expect(items['dup-c']?.status).toBe('succeeded');
      expect(flagsOf(items['dup-c'])).toEqual([]);
    }
    expect(h.qaFlags.length).toBe(before);
  });
});
