import { hammingDistance, type NearDuplicate } from '@pixelmill/core';
import { makePng } from '@pixelmill/provider-sim';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type Inspection, inspectImage, judgeOutput, type QaDeps, type QaSubject } from './inspect.js';
import { decodePreview, maxColourStdev, previewImage } from './preview.js';
import { defaultQaThresholds } from './thresholds.js';

/** A brute-force stand-in for the Redis index (QaIndexStore has its own tests against Redis). */
function memoryIndex(): QaDeps['index'] {
  const seen: { customId: string; index: number; dhash: string }[] = [];
  return {
    addAndFind: async (_tenant, _batch, out, max) => {
      const found: NearDuplicate[] = seen
        .filter((s) => s.customId !== out.customId)
        .map((s) => ({ ...s, distance: hammingDistance(s.dhash, out.dhash) }))
        .filter((s) => s.distance <= max)
        .sort((a, b) => a.distance - b.distance);
      seen.push(out);
      return found;
    },
  };
}

const subject = (
  customId: string,
  width: number,
  height: number,
  more: Partial<QaSubject> = {},
): QaSubject => ({
  tenantId: 'acme',
  batchId: 'batch_1',
  customId,
  index: 0,
  format: 'png',
  size: '1K',
  aspectRatio: null,
  width,
  height,
  ...more,
});

async function judge(deps: QaDeps, bytes: Buffer, s: Partial<QaSubject> & { customId: string }) {
  const meta = await sharp(bytes).metadata();
  const seen: Inspection = await inspectImage(bytes);
  return judgeOutput(deps, subject(s.customId, meta.width ?? 0, meta.height ?? 0, s), seen);
}

const flat = (w: number, h: number, rgb: [number, number, number]) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();

/** A flat colour with ±`amp` of seeded noise per pixel: near-uniform. */
function noisy(w: number, h: number, rgb: [number, number, number], amp: number): Promise<Buffer> {
  const px = Buffer.alloc(w * h * 3);
  let s = 12345;
  for (let i = 0; i < px.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    px[i] = Math.max(0, Math.min(255, (rgb[i % 3] as number) + ((s >> 16) % (2 * amp + 1)) - amp));
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

const deps = (): QaDeps & { flags: string[][] } => {
  const flags: string[][] = [];
  return { thresholds: defaultQaThresholds, index: memoryIndex(), onFlagged: (c) => flags.push(c), flags };
};
const failed = (qa: { checks: { name: string; passed: boolean }[] }) =>
  qa.checks.filter((c) => !c.passed).map((c) => c.name);

describe('output QA on generated images', () => {
  it("measures the channel deviation sharp's stats() reports", async () => {
    for (const bytes of [
      makePng(300, 200, 'a chair'),
      await noisy(256, 256, [10, 200, 90], 30),
      await sharp(makePng(64, 64, 'alpha'))
        .ensureAlpha(0.5)
        .png()
        .toBuffer(),
    ]) {
      const preview = await decodePreview(bytes);
      const stats = await previewImage(preview).stats();
      const colour = stats.channels.slice(0, Math.min(3, preview.channels));
      expect(maxColourStdev(preview)).toBeCloseTo(Math.max(...colour.map((c) => c.stdev)), 1);
    }
  });

  it("flags none of the simulator's normal images (300 prompts, and 1K/2K pictures)", async () => {
    const d = deps();
    for (let i = 0; i < 300; i++) {
      const qa = await judge(d, makePng(256, 256, `catalog item ${i}: a product photo`, i), {
        customId: `sku-${i}`,
        size: '512',
        aspectRatio: '1:1',
      });
      expect({ i, failed: failed(qa) }).toEqual({ i, failed: [] });
      expect(qa.status).toBe('passed');
      expect(qa.dhash).toMatch(/^[0-9a-f]{16}$/);
    }
    for (const [w, h, size, aspect] of [
      [1024, 1024, '1K', '1:1'],
      [1344, 768, '1K', '16:9'],
      [1632, 2048, '2K', '4:5'],
    ] as const) {
      const qa = await judge(d, makePng(w, h, `wide ${w}`), {
        customId: `big-${w}`,
        size,
        aspectRatio: aspect,
      });
      expect(failed(qa)).toEqual([]);
    }
    expect(d.flags).toEqual([]);
  }, 120_000);

  it('flags blank (black, white) and uniform or near-uniform outputs', async () => {
    const d = deps();
    const cases: [string, Buffer][] = [
      ['black', await flat(512, 512, [0, 0, 0])],
      ['white', await flat(512, 512, [255, 255, 255])],
      ['uniform', await flat(512, 512, [120, 80, 200])],
      ['near-uniform', await noisy(512, 512, [120, 80, 200], 6)],
    ];
    for (const [name, bytes] of cases) {
      const qa = await judge(d, bytes, { customId: name, size: '512' });
      expect(qa.status).toBe('flagged');
      const blank = qa.checks.find((c) => c.name === 'blank');
      expect(blank?.passed).toBe(false);
      expect(blank?.value).toBeLessThan(defaultQaThresholds.blankMinStdev);
    }
    // The simulator's [blank] picture too.
    const sim = await judge(d, makePng(256, 256, 'x', 1, true), { customId: 'sim-blank', size: '512' });
    expect(failed(sim)).toContain('blank');
  });

  it('flags a near-duplicate of another item of the batch (re-encoded, rescaled), naming it', async () => {
    const d = deps();
    const original = makePng(1024, 1024, 'a red shoe on white');
    expect(failed(await judge(d, original, { customId: 'shoe-1' }))).toEqual([]);
    const copy = await sharp(original).resize(900, 900).jpeg({ quality: 70 }).toBuffer();
    const qa = await judge(d, copy, { customId: 'shoe-2', format: 'jpeg' });
    expect(failed(qa)).toEqual(['duplicate']);
    expect(qa.checks.find((c) => c.name === 'duplicate')).toMatchObject({
      passed: false,
      of: { custom_id: 'shoe-1', index: 0 },
    });
    expect(failed(await judge(d, makePng(1024, 1024, 'a blue bag'), { customId: 'bag' }))).toEqual([]);
    expect(d.flags).toEqual([['duplicate']]);
    // Two variants of one item (its n images) are no duplicates of each other.
    const own = deps();
    expect(failed(await judge(own, original, { customId: 'shoe-1', index: 0 }))).toEqual([]);
    expect(failed(await judge(own, original, { customId: 'shoe-1', index: 1 }))).toEqual([]);
  });

  it('flags an aspect ratio off the request and a resolution far under the size tier', async () => {
    const d = deps();
    const wide = makePng(1024, 512, 'banner');
    const qa = await judge(d, wide, { customId: 'wide', aspectRatio: '1:1' });
    expect(failed(qa)).toEqual(['aspect_ratio']);
    expect(qa.checks.find((c) => c.name === 'aspect_ratio')?.value).toBe(2);
    expect(failed(await judge(deps(), wide, { customId: 'wide-ok', aspectRatio: '2:1' }))).toEqual([]);
    // The nearest fixed size a model offers (3:2 for 16:9) is within the default tolerance.
    expect(
      failed(await judge(d, makePng(1536, 1024, 'fixed'), { customId: 'f', aspectRatio: '16:9' })),
    ).toEqual([]);
    const tiny = await judge(d, makePng(64, 64, 'tiny'), { customId: 'tiny', size: '1K' });
    expect(failed(tiny)).toEqual(['dimensions']);
    expect(tiny.checks.find((c) => c.name === 'dimensions')?.value).toBe('64x64');
  });

  it('flags bytes that do not decode, leaving the pixel checks out', async () => {
    const d = deps();
    const png = makePng(256, 256, 'cut short');
    const qa = await judge(d, png.subarray(0, 60), { customId: 'cut', size: '512' });
    expect(qa.status).toBe('flagged');
    expect(qa.checks.map((c) => [c.name, c.passed])).toEqual([
      ['decodes', false],
      ['dimensions', true],
      ['aspect_ratio', true],
    ]);
    expect(qa.dhash).toBeNull();
  });
});
