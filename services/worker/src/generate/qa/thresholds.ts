/**
 * Limits of the automatic output checks (api.md "Output QA"; QA_* environment variables). The defaults
 * flag none of the provider simulator's normal images.
 */
export interface QaThresholds {
  /** `blank`: flagged when every colour channel's standard deviation (0-255) is below this. */
  blankMinStdev: number;
  /** `duplicate`: flagged when another item's output of the batch is within this many bits (of 64). */
  duplicateMaxDistance: number;
  /** `aspect_ratio`: flagged when width/height is off the requested ratio by more than this fraction. */
  aspectTolerance: number;
  /** `dimensions`: flagged when the long side is under this fraction of the size tier's long side. */
  minResolution: number;
}

export const defaultQaThresholds: QaThresholds = {
  blankMinStdev: 4,
  duplicateMaxDistance: 6,
  aspectTolerance: 0.2,
  minResolution: 0.5,
};
