import {
  type BatchStore,
  type ItemOutput,
  isProviderError,
  type OutputFormat,
  ProviderError,
} from '@pixelmill/core';
import type { Logger } from '@pixelmill/logger';
import type { GeneratedImage } from '@pixelmill/providers';
import { classifyS3Error, describeError, type ObjectStore } from '@pixelmill/storage';
import pRetry, { AbortError } from 'p-retry';
import sharp from 'sharp';
import { type OutputPlace, outputKeyFor } from './output-key.js';
import { inspectImage, judgeOutput, type QaDeps } from './qa/inspect.js';
import type { Spool, SpoolSlot } from './spool.js';
import { putThumbnail } from './thumbnail.js';
import type { UploadGate } from './upload-gate.js';

const mimeOf: Record<OutputFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** A hung PUT counts as a failed try (the SDK sets no request timeout); the retry writes the same key. */
const PUT_TIMEOUT_MS = 60_000;

export type { OutputPlace } from './output-key.js';

export interface StoreDeps {
  objects: ObjectStore;
  store: Pick<BatchStore, 'recordOutput'>;
  spool: Spool;
  uploads: UploadGate;
  logger: Logger;
  qa: QaDeps;
  options: { uploadRetryMs: number };
}

const slotOf = (place: OutputPlace, index: number): SpoolSlot => ({
  batchId: place.batchId,
  customId: place.customId,
  index,
});

/** Named like the SDK's own timeouts, so classifyS3Error counts it as S3 being unwell. */
const putTimeout = (message: string): Error => Object.assign(new Error(message), { name: 'TimeoutError' });

/**
 * S3 refused this object for its key, size or content (classifyS3Error): the same PUT can never
 * succeed, so it is not retried, the gate stays open, and only its item fails. The message names the
 * key and S3's reason (the SDK's error carries neither bytes nor credentials).
 */
function refusal(key: string, err: unknown): ProviderError {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return new ProviderError({
    code: 'storage_rejected',
    message: `S3 refused the object ${key}: ${describeError(err)}`,
    retryable: false,
    scope: 'item',
    status: e.$metadata?.httpStatusCode,
    providerCode: e.name,
    cause: err,
  });
}

/** True for the error of an upload S3 refused (see refusal()). */
export const isStorageRefusal = (err: unknown): err is ProviderError =>
  isProviderError(err) && err.code === 'storage_rejected';

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(putTimeout(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Converts an image to the batch's output format when the provider returned another one, measures it
 * from the decoded bytes (providers sometimes ignore the requested size), and uploads it. While it
 * uploads, the image is decoded once for its thumbnail and the QA checks (qa/): their result is
 * recorded on the output and never fails it. While S3 is unwell the upload (never the generation) is
 * retried with exponential backoff for up to `uploadRetryMs`, and the gate holds new generations back;
 * an upload S3 refuses for the object itself fails at once with `storage_rejected` and never touches
 * the gate.
 */
async function storeImage(
  deps: Pick<StoreDeps, 'objects' | 'uploads' | 'logger' | 'options' | 'qa'>,
  source: Buffer,
  where: OutputPlace & { index: number },
): Promise<ItemOutput> {
  let bytes = source;
  const meta = await sharp(bytes).metadata();
  const wanted = where.format;
  if (meta.format !== wanted) bytes = await sharp(bytes).toFormat(wanted).toBuffer();
  const key = outputKeyFor(where, where.index);
  // The one decode (thumbnail and checks) runs beside the upload; it never rejects.
  const inspecting = inspectImage(bytes);
  let retrying: (() => void) | undefined;
  try {
    const put = await pRetry(
      async () => {
        try {
          return await withTimeout(
            deps.objects.put(key, bytes, mimeOf[wanted]),
            PUT_TIMEOUT_MS,
            `upload of ${key}`,
          );
        } catch (err) {
          // p-retry rethrows an AbortError's error at once, without onFailedAttempt (no gate, no wait).
          if (classifyS3Error(err) === 'refused') throw new AbortError(refusal(key, err));
          throw err;
        }
      },
      {
        retries: Number.POSITIVE_INFINITY,
        maxRetryTime: deps.options.uploadRetryMs,
        minTimeout: 200,
        maxTimeout: 5_000,
        randomize: true,
        onFailedAttempt: ({ error, attemptNumber }) => {
          if (retrying === undefined) {
            retrying = deps.uploads.uploadRetrying();
            deps.logger.warn(
              { batch_id: where.batchId, key, err: error.message },
              'upload failed; retrying with backoff and pausing new generations',
            );
          } else if (attemptNumber % 10 === 0) {
            deps.logger.warn(
              { batch_id: where.batchId, key, attempts: attemptNumber },
              'upload still failing',
            );
          }
        },
      },
    ).catch((err: unknown) => {
      if (isStorageRefusal(err)) throw err;
      // Retryable: the item spends an attempt, its bytes stay spooled and the next attempt uploads them.
      throw new ProviderError({
        code: 'storage_error',
        message: `Upload of ${key} kept failing for ${deps.options.uploadRetryMs} ms: ${(err as Error).message}`,
        retryable: true,
        scope: 'item',
        cause: err,
      });
    });
    if (retrying !== undefined) deps.logger.info({ batch_id: where.batchId, key }, 'upload recovered');
    const seen = await inspecting;
    // The output is stored; a thumbnail key S3 refuses (it is a few bytes longer) only loses the preview,
    // and bytes that do not decode have none (the `decodes` check flags them).
    const thumbnailKey =
      seen.preview === null
        ? undefined
        : await putThumbnail(deps.objects, seen.preview, key).catch((err: unknown) => {
            if (classifyS3Error(err) !== 'refused') throw err;
            deps.logger.warn(
              { batch_id: where.batchId, key, err: describeError(err) },
              'S3 refused the thumbnail; the output is stored without one',
            );
            return undefined;
          });
    const rotated = (meta.orientation ?? 1) >= 5;
    const qa = await judgeOutput(
      deps.qa,
      {
        tenantId: where.tenantId,
        batchId: where.batchId,
        customId: where.customId,
        index: where.index,
        format: wanted,
        size: where.size,
        aspectRatio: where.aspectRatio,
        width: (rotated ? meta.height : meta.width) ?? 0,
        height: (rotated ? meta.width : meta.height) ?? 0,
      },
      seen,
    );
    if (qa.status === 'flagged') {
      deps.logger.info(
        { batch_id: where.batchId, key, flagged: qa.checks.filter((c) => !c.passed).map((c) => c.name) },
        'output flagged by QA (stored as usual)',
      );
    }
    return {
      index: where.index,
      key,
      content_type: mimeOf[wanted],
      width: meta.width ?? 0,
      height: meta.height ?? 0,
      bytes: put.bytes,
      sha256: put.sha256,
      ...(thumbnailKey !== undefined ? { thumbnail_key: thumbnailKey } : {}),
      qa,
    };
  } finally {
    retrying?.();
  }
}

/**
 * Bytes S3 refused can never be stored at their key: they leave the spool (so no later attempt or
 * restart uploads them again) and the refusal goes on to fail the item. Other errors pass unchanged.
 */
const dropIfRefused =
  (deps: Pick<StoreDeps, 'spool'>, slot: SpoolSlot) =>
  async (err: unknown): Promise<never> => {
    if (isStorageRefusal(err)) await deps.spool.remove(slot);
    throw err;
  };

/** The first `count` indexes below `n` that have no output yet, lowest first. */
function freeIndexes(done: Set<number>, count: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n && out.length < count; i++) if (!done.has(i)) out.push(i);
  return out;
}

/**
 * Stores images a provider call just returned. All of them are spooled first (they are paid for), then
 * each is uploaded, recorded on the item, and dropped from the spool; `done` grows as outputs land, so
 * a failure part-way keeps what was stored and a retry uploads the rest from the spool.
 */
export async function storeGenerated(
  deps: StoreDeps,
  itemId: string,
  place: OutputPlace,
  images: GeneratedImage[],
  done: Set<number>,
  n: number,
): Promise<void> {
  const indexes = freeIndexes(done, images.length, n);
  const held = indexes.map((_, k) => deps.uploads.hold(images[k]?.bytes.length ?? 0));
  try {
    await Promise.all(indexes.map((index, k) => deps.spool.save(slotOf(place, index), images[k]!.bytes)));
    deps.logger.debug(
      { batch_id: place.batchId, item_id: itemId, indexes, bytes: images.map((i) => i.bytes.length) },
      'provider images received and spooled',
    );
    for (const [k, index] of indexes.entries()) {
      const output = await storeImage(deps, images[k]!.bytes, { ...place, index }).catch(
        dropIfRefused(deps, slotOf(place, index)),
      );
      await deps.store.recordOutput(itemId, output);
      done.add(index);
      held[k]?.();
      await deps.spool.remove(slotOf(place, index));
    }
  } finally {
    for (const release of held) release();
  }
}

/**
 * Uploads the images an earlier attempt of this item generated but did not store (its worker crashed,
 * or the bucket was down past the upload deadline), so they are never generated again. Spooled images
 * whose output is already recorded are only dropped from the spool; one S3 refuses is dropped and the
 * refusal (`storage_rejected`) thrown, to fail the item.
 */
export async function storeSpooled(
  deps: StoreDeps,
  itemId: string,
  place: OutputPlace,
  done: Set<number>,
  n: number,
): Promise<void> {
  for (const index of await deps.spool.indexes(place.batchId, place.customId)) {
    const slot = slotOf(place, index);
    if (done.has(index) || index >= n) {
      await deps.spool.remove(slot);
      continue;
    }
    const bytes = await deps.spool.load(slot);
    if (bytes === null) continue;
    const release = deps.uploads.hold(bytes.length);
    try {
      const output = await storeImage(deps, bytes, { ...place, index }).catch(dropIfRefused(deps, slot));
      await deps.store.recordOutput(itemId, output);
      done.add(index);
      await deps.spool.remove(slot);
      deps.logger.info(
        { batch_id: place.batchId, item_id: itemId, index },
        'stored an image generated by an earlier attempt (from the spool, not generated again)',
      );
    } finally {
      release();
    }
  }
}
