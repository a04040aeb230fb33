import { type QaCheckName, toMicros } from '@pixelmill/core';
import { estimateCostUsd } from '@pixelmill/providers';
import type { WorkerDeps } from '../deps.js';
import { unstorableKeys } from './output-key.js';
import type { Ready } from './processor.js';
import type { Run } from './settle.js';

/**
 * Batch `qa.on_flag: regenerate` (api.md "Review and versions"): once every output of the item's
 * newest version is stored, its flagged outputs are generated again as a new version (the unflagged
 * ones carry over), each regeneration its own provider call and cost, until none is flagged or the
 * item had `max_regenerations` of them since its last requested version. Then the item ends as usual,
 * a still-flagged output kept. Returns true when a new version was started: the caller generates it.
 */
export async function regenerateFlagged(deps: WorkerDeps, run: Run, ready: Ready): Promise<boolean> {
  const policy = run.spec?.qa;
  if (policy?.on_flag !== 'regenerate' || run.model === undefined) return false;
  const item = await deps.store.getItem(run.data.item_id);
  if (item === null) return false;
  const current = item.versions[item.versions.length - 1];
  const flagged = current?.outputs.filter((o) => o.qa?.status === 'flagged') ?? [];
  if (current === undefined || flagged.length === 0) return false;
  let done = 0;
  for (const v of [...item.versions].reverse()) {
    if (v.cause.reason !== 'qa_flag') break;
    done++;
  }
  if (done >= policy.max_regenerations) return false;
  const next = { ...ready.place, version: item.version + 1 };
  const unstorable = unstorableKeys(next, item.n);
  if (unstorable !== null) {
    run.log.info(
      { reason: unstorable.message },
      'flagged outputs kept: their next version has no usable key',
    );
    return false;
  }
  const checks = [
    ...new Set(flagged.flatMap((o) => (o.qa?.checks ?? []).filter((c) => !c.passed).map((c) => c.name))),
  ] as QaCheckName[];
  const indexes = flagged.map((o) => o.index);
  const keep = current.outputs.filter((o) => o.qa?.status !== 'flagged').map((o) => o.index);
  const version = await deps.store.startQaVersion(run.data.batch_id, run.data.item_id, {
    keep,
    cause: { reason: 'qa_flag', checks, indexes },
    replacedMicros: toMicros(estimateCostUsd(run.model, item.size, flagged.length)),
    replacedImages: flagged.length,
  });
  if (version === 0) return false;
  ready.place = { ...ready.place, version };
  run.stored = new Set(keep);
  deps.qa.onRegenerated?.(indexes.length);
  run.log.info(
    { version, checks, indexes },
    'flagged outputs generated again as a new version (batch qa policy)',
  );
  return true;
}
