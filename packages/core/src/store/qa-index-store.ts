import type { Redis } from 'ioredis';
import { runScript } from './scripts.js';

/** An earlier output of the batch whose perceptual hash is within the asked distance. */
export interface NearDuplicate {
  customId: string;
  index: number;
  dhash: string;
  distance: number;
}

/** Longest distance the index can answer exactly: 4 chunks probed within 2 bits each. */
export const MAX_INDEXED_DISTANCE = 11;

/** The index lives a week after a batch's last output: long enough for reviews and regenerations. */
const DEFAULT_TTL_S = 7 * 24 * 3600;
/** Members read from one bucket at most: past this the bucket holds one picture many times over. */
const DEFAULT_BUCKET_CAP = 256;

const HASH_RE = /^[0-9a-f]{16}$/;

/** The four 16-bit chunks of a 64-bit hash written as 16 hex digits, highest first. */
export function dhashChunks(hash: string): [number, number, number, number] {
  if (!HASH_RE.test(hash)) throw new RangeError(`not a 64-bit hex hash: ${hash}`);
  const c = (i: number) => Number.parseInt(hash.slice(i * 4, i * 4 + 4), 16);
  return [c(0), c(1), c(2), c(3)];
}

function popcount16(v: number): number {
  let x = v - ((v >> 1) & 0x5555);
  x = (x & 0x3333) + ((x >> 2) & 0x3333);
  x = (x + (x >> 4)) & 0x0f0f;
  return (x + (x >> 8)) & 0x1f;
}

/** Bits that differ between two 64-bit hashes (16 hex digits each). */
export function hammingDistance(a: string, b: string): number {
  const x = dhashChunks(a);
  const y = dhashChunks(b);
  let d = 0;
  for (let i = 0; i < 4; i++) d += popcount16((x[i] as number) ^ (y[i] as number));
  return d;
}

/** Every 16-bit value within `radius` bits of `v` (v itself first). */
function neighbours(v: number, radius: number): number[] {
  const out = [v];
  if (radius >= 1) for (let i = 0; i < 16; i++) out.push(v ^ (1 << i));
  if (radius >= 2)
    for (let i = 0; i < 16; i++) for (let j = i + 1; j < 16; j++) out.push(v ^ (1 << i) ^ (1 << j));
  return out;
}

/**
 * Near-duplicate index of a batch's outputs (Output QA), by multi-index hashing: a 64-bit hash is cut
 * into four 16-bit chunks kept in one sorted set per chunk position. Two hashes within distance D
 * share at least one chunk within floor(D / 4) bits (pigeonhole), so a lookup reads 4 x 17 buckets
 * for D up to 7 instead of comparing with every output: a batch of 100,000 costs one script call
 * per output. Keys are per tenant and batch and expire a week after the batch's last insert.
 */
export class QaIndexStore {
  private readonly ttlS: number;
  private readonly bucketCap: number;

  constructor(
    readonly redis: Redis,
    private readonly prefix: string,
    opts: { ttlS?: number; bucketCap?: number } = {},
  ) {
    this.ttlS = opts.ttlS ?? DEFAULT_TTL_S;
    this.bucketCap = opts.bucketCap ?? DEFAULT_BUCKET_CAP;
  }

  /**
   * The batch's four sorted sets (chunk 0 to 3), in one hash slot per batch (qaNearDuplicates-4.lua
   * reads all four, and nothing else), so batches spread over a cluster.
   */
  keys(tenantId: string, batchId: string): string[] {
    return [0, 1, 2, 3].map((i) => `${this.prefix}:qa:{${tenantId}:${batchId}}:dhash:${i}`);
  }

  /**
   * Records one output's hash and returns the earlier outputs of the same batch, of other items
   * (another custom_id), within `maxDistance` bits, nearest first. Recording the same output again
   * (a retry) changes nothing.
   */
  async addAndFind(
    tenantId: string,
    batchId: string,
    output: { customId: string; index: number; dhash: string },
    maxDistance: number,
  ): Promise<NearDuplicate[]> {
    if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > MAX_INDEXED_DISTANCE) {
      throw new RangeError(`maxDistance must be 0..${MAX_INDEXED_DISTANCE}`);
    }
    const chunks = dhashChunks(output.dhash);
    const radius = Math.floor(maxDistance / 4);
    const probes = chunks.map((c) => neighbours(c, radius));
    const found = (await runScript(this.redis, 'qaNearDuplicates-4', this.keys(tenantId, batchId), [
      `${output.dhash}:${output.index}:${output.customId}`,
      this.ttlS,
      this.bucketCap,
      ...chunks,
      probes[0]?.length ?? 0,
      ...probes.flat(),
    ])) as string[];
    const out: NearDuplicate[] = [];
    for (const member of found) {
      const [dhash = '', index = '', ...rest] = member.split(':');
      const customId = rest.join(':');
      if (customId === output.customId) continue;
      const distance = hammingDistance(dhash, output.dhash);
      if (distance <= maxDistance) out.push({ customId, index: Number(index), dhash, distance });
    }
    return out.sort((a, b) => a.distance - b.distance || a.customId.localeCompare(b.customId));
  }

  /** Drops a batch's index (tests; a batch's keys otherwise expire on their own). */
  async drop(tenantId: string, batchId: string): Promise<void> {
    await this.redis.del(...this.keys(tenantId, batchId));
  }
}
