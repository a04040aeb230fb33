import type { OutputQa, QaCheckName, QaIndexStore, Size } from '@pixelmill/core';
import { evaluateQa, flaggedChecks } from './checks.js';
import { dhash } from './dhash.js';
import { decodePreview, maxColourStdev, type Preview } from './preview.js';
import type { QaThresholds } from './thresholds.js';

/** What the worker needs to check outputs (main.ts builds it from QA_* settings). */
export interface QaDeps {
  thresholds: QaThresholds;
  index: Pick<QaIndexStore, 'addAndFind'>;
  /** Told the names of the checks that flagged an output (the worker's metrics count them). */
  onFlagged?: (checks: QaCheckName[]) => void;
  /** Told how many flagged outputs a batch's qa policy is generating again (the worker's metrics count them). */
  onRegenerated?: (outputs: number) => void;
}

/** An output's one decode and its pixel measures; `preview` is null when the bytes did not decode. */
export type Inspection =
  | { preview: Preview; maxStdev: number; dhash: string }
  | { preview: null; maxStdev: null; dhash: null };

/**
 * Decodes a stored output once and measures it. Never rejects: bytes that do not decode give a null
 * preview (the `decodes` check flags them; the output is still stored).
 */
export async function inspectImage(bytes: Buffer): Promise<Inspection> {
  let preview: Preview;
  try {
    preview = await decodePreview(bytes);
  } catch {
    return { preview: null, maxStdev: null, dhash: null };
  }
  return { preview, maxStdev: maxColourStdev(preview), dhash: dhash(preview) };
}

/** Where the output belongs and what its item asked for. */
export interface QaSubject {
  tenantId: string;
  batchId: string;
  customId: string;
  index: number;
  format: string;
  size: Size;
  aspectRatio: string | null;
  /** As displayed (EXIF orientation applied). */
  width: number;
  height: number;
}

/**
 * The QA result of one output: its hash goes into the batch's near-duplicate index (and is compared
 * with the outputs recorded before it), then every check is evaluated. A flag is reported, never thrown.
 */
export async function judgeOutput(deps: QaDeps, s: QaSubject, seen: Inspection): Promise<OutputQa> {
  const t = deps.thresholds;
  const want = { format: s.format, size: s.size, aspectRatio: s.aspectRatio };
  const qa =
    seen.preview === null
      ? evaluateQa({ decoded: false, format: null, width: s.width, height: s.height }, want, t)
      : evaluateQa(
          {
            decoded: true,
            format: s.format,
            width: s.width,
            height: s.height,
            maxStdev: seen.maxStdev,
            dhash: seen.dhash,
            duplicates: await deps.index.addAndFind(
              s.tenantId,
              s.batchId,
              { customId: s.customId, index: s.index, dhash: seen.dhash },
              t.duplicateMaxDistance,
            ),
          },
          want,
          t,
        );
  if (qa.status === 'flagged') deps.onFlagged?.(flaggedChecks(qa));
  return qa;
}
