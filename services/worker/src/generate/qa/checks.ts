import type { NearDuplicate, OutputQa, QaCheck, Size } from '@pixelmill/core';
import type { QaThresholds } from './thresholds.js';

/** Nominal long side of each size tier, in pixels. */
const TIER_LONG_SIDE: Record<Size, number> = { '512': 512, '1K': 1024, '2K': 2048, '4K': 4096 };

/** What the item asked for. */
export interface QaRequest {
  format: string;
  size: Size;
  aspectRatio: string | null;
}

/** What was measured on the stored output; `decoded` false leaves the pixel checks out. */
export type QaMeasures =
  | { decoded: false; format: string | null; width: number; height: number }
  | {
      decoded: true;
      format: string;
      /** As displayed (EXIF orientation applied). */
      width: number;
      height: number;
      maxStdev: number;
      dhash: string;
      /** Earlier outputs of other items of the batch within the distance limit, nearest first. */
      duplicates: NearDuplicate[];
    };

const round = (v: number, digits: number) => Number(v.toFixed(digits));

function ratioOf(aspect: string): number | undefined {
  const m = /^(\d+):(\d+)$/.exec(aspect);
  return m ? Number(m[1]) / Number(m[2]) : undefined;
}

/** The checks of one output and its status: `flagged` when any check did not pass. */
export function evaluateQa(m: QaMeasures, want: QaRequest, t: QaThresholds): OutputQa {
  const checks: QaCheck[] = [];
  checks.push({ name: 'decodes', passed: m.decoded && m.format === want.format, value: m.format });
  const long = Math.max(m.width, m.height);
  checks.push({
    name: 'dimensions',
    passed: long >= t.minResolution * TIER_LONG_SIDE[want.size],
    value: `${m.width}x${m.height}`,
  });
  const actual = m.height > 0 ? m.width / m.height : 0;
  const asked = want.aspectRatio === null ? undefined : ratioOf(want.aspectRatio);
  checks.push({
    name: 'aspect_ratio',
    // Off by a fraction either way: 1.2 x too wide or 1.2 x too tall are both 0.2 off.
    passed:
      asked === undefined ||
      (actual > 0 && Math.exp(Math.abs(Math.log(actual / asked))) - 1 <= t.aspectTolerance),
    value: round(actual, 3),
  });
  if (m.decoded) {
    checks.push({ name: 'blank', passed: m.maxStdev >= t.blankMinStdev, value: round(m.maxStdev, 2) });
    const nearest = m.duplicates[0];
    checks.push({
      name: 'duplicate',
      passed: nearest === undefined,
      value: nearest?.distance ?? null,
      ...(nearest ? { of: { custom_id: nearest.customId, index: nearest.index } } : {}),
    });
  }
  return {
    status: checks.every((c) => c.passed) ? 'passed' : 'flagged',
    checks,
    dhash: m.decoded ? m.dhash : null,
  };
}

/** Names of the checks that flagged an output. */
export const flaggedChecks = (qa: OutputQa): QaCheck['name'][] =>
  qa.checks.filter((c) => !c.passed).map((c) => c.name);
