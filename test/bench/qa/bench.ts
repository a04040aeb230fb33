/**
 * Output QA benchmark (issue 17): `pnpm bench:qa`.
 *
 * 1. CPU per image at 1K, 2K and 4K (process CPU time, user + system, all threads: sharp works on
 *    libuv's pool), in the same run:
 *    - before QA: the worker's thumbnail as it was (one sharp chain: decode, shrink, WebP);
 *    - now: the one decode to a 256 px preview, the WebP thumbnail from it, and the checks on it
 *      (sharp stats, dHash, evaluation).
 *    The images are photo-like (blurred Gaussian noise, PNG), harder to decode than the simulator's.
 * 2. Near-duplicate search over 100,000 outputs of one batch: every output recorded and looked up in
 *    QaIndexStore (Redis, 32 in flight, as concurrent workers do) against a brute-force baseline in the
 *    same run (each output compared with every earlier one, in memory: the baseline's best case, as it
 *    ignores fetching the hashes). 200 near-copies (1-6 bits off) are planted; both must find them.
 *
 * Prints a Markdown section for BENCHMARKS.md and the raw numbers as JSON.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { hammingDistance, QaIndexStore } from '@pixelmill/core';
import {
  decodePreview,
  defaultQaThresholds,
  dhash,
  evaluateQa,
  maxColourStdev,
  previewImage,
} from '@pixelmill/worker';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { deletePrefix } from '../../support/redis-cleanup.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TIERS = [
  { size: '1K', px: 1024, runs: 20 },
  { size: '2K', px: 2048, runs: 8 },
  { size: '4K', px: 4096, runs: 4 },
] as const;
const OUTPUTS = 100_000;
const PLANTED = 200;
const IN_FLIGHT = 32;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function photoLike(px: number): Promise<Buffer> {
  const noise = await sharp({
    create: {
      width: px,
      height: px,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .png()
    .toBuffer();
  return sharp(noise).blur(1.5).png().toBuffer();
}

/** CPU ms of `work` per call, median of `runs` (one warm-up call first). */
async function cpuPer(runs: number, work: () => Promise<unknown>): Promise<number> {
  await work();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = cpuMs();
    await work();
    samples.push(cpuMs() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

const thumbnailBefore = (img: Buffer) =>
  sharp(img)
    .rotate()
    .resize({ width: 256, height: 256, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 75 })
    .toBuffer();

interface CpuRow {
  size: string;
  bytes: number;
  before: number;
  decode: number;
  thumbnail: number;
  checks: number;
}

async function cpuRows(): Promise<CpuRow[]> {
  const rows: CpuRow[] = [];
  for (const tier of TIERS) {
    const img = await photoLike(tier.px);
    const preview = await decodePreview(img);
    const before = await cpuPer(tier.runs, () => thumbnailBefore(img));
    const decode = await cpuPer(tier.runs, () => decodePreview(img));
    const thumbnail = await cpuPer(tier.runs, () => previewImage(preview).webp({ quality: 75 }).toBuffer());
    const checks = await cpuPer(tier.runs * 5, async () => {
      const stdev = maxColourStdev(preview);
      const hash = dhash(preview);
      return evaluateQa(
        {
          decoded: true,
          format: 'png',
          width: tier.px,
          height: tier.px,
          maxStdev: stdev,
          dhash: hash,
          duplicates: [],
        },
        { format: 'png', size: tier.size, aspectRatio: '1:1' },
        defaultQaThresholds,
      );
    });
    rows.push({ size: tier.size, bytes: img.length, before, decode, thumbnail, checks });
  }
  return rows;
}

/** Deterministic pseudo-random 64-bit hashes (xorshift64) as 16 hex digits. */
function randomHashes(count: number): string[] {
  let s = 0x9e3779b97f4a7c15n;
  const mask = (1n << 64n) - 1n;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    s ^= (s << 13n) & mask;
    s ^= s >> 7n;
    s ^= (s << 17n) & mask;
    out.push(s.toString(16).padStart(16, '0'));
  }
  return out;
}

function flipBits(hash: string, n: number, salt: number): string {
  let v = BigInt(`0x${hash}`);
  for (let k = 0; k < n; k++) v ^= 1n << BigInt((salt * 7 + k * 13) % 64);
  return v.toString(16).padStart(16, '0');
}

interface SearchResult {
  indexMs: number;
  /** Median wall time of one index call over the last 1,000 outputs (about 100,000 recorded). */
  indexLastThousandMedianMs: number;
  /** Brute force as a worker would do it: read every hash of the batch from Redis, compare. */
  redisBruteMsPerLookup: number;
  indexP99Ms: number;
  indexFound: number;
  bruteMs: number;
  bruteFound: number;
  bruteLastThousandMsPerLookup: number;
}

async function search(): Promise<SearchResult> {
  const hashes = randomHashes(OUTPUTS);
  // Plant near-copies of earlier outputs at the end of the batch.
  for (let i = 0; i < PLANTED; i++) {
    const at = OUTPUTS - PLANTED + i;
    hashes[at] = flipBits(hashes[i * 100] as string, 1 + (i % 6), i);
  }
  const max = defaultQaThresholds.duplicateMaxDistance;

  // Brute force, in memory: split hashes into two 32-bit halves for speed.
  const hi = new Uint32Array(OUTPUTS);
  const lo = new Uint32Array(OUTPUTS);
  for (const [i, h] of hashes.entries()) {
    hi[i] = Number.parseInt(h.slice(0, 8), 16);
    lo[i] = Number.parseInt(h.slice(8), 16);
  }
  const pop = (x: number) => {
    let v = x - ((x >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  };
  let bruteFound = 0;
  let lastThousandStart = 0;
  const b0 = performance.now();
  for (let i = 0; i < OUTPUTS; i++) {
    if (i === OUTPUTS - 1000) lastThousandStart = performance.now();
    const h = hi[i] as number;
    const l = lo[i] as number;
    for (let j = 0; j < i; j++) {
      if (pop(h ^ (hi[j] as number)) + pop(l ^ (lo[j] as number)) <= max) {
        if (i >= OUTPUTS - PLANTED) bruteFound++;
        break;
      }
    }
  }
  const bruteMs = performance.now() - b0;
  const bruteLastThousandMsPerLookup = (performance.now() - lastThousandStart) / 1000;

  const redis = new Redis(REDIS_URL);
  const prefix = `bench-qa-${randomUUID().slice(0, 8)}`;
  const index = new QaIndexStore(redis, prefix);
  const batch = `batch_${randomUUID()}`;
  const latencies: number[] = [];
  const lastThousand: number[] = [];
  let indexFound = 0;
  let next = 0;
  const i0 = performance.now();
  try {
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < OUTPUTS) {
          const i = next++;
          const t = performance.now();
          const found = await index.addAndFind(
            'bench',
            batch,
            { customId: `sku-${i}`, index: 0, dhash: hashes[i] as string },
            max,
          );
          latencies.push(performance.now() - t);
          if (i >= OUTPUTS - 1000) lastThousand.push(performance.now() - t);
          if (i >= OUTPUTS - PLANTED && found.length > 0) indexFound++;
        }
      }),
    );
  } finally {
    await index.drop('bench', batch);
    await deletePrefix(REDIS_URL, prefix);
    redis.disconnect();
  }
  const indexMs = performance.now() - i0;
  latencies.sort((a, b) => a - b);
  lastThousand.sort((a, b) => a - b);

  // Brute force across processes: the batch's hashes in one Redis list, read whole for each lookup.
  const redis2 = new Redis(REDIS_URL);
  const listKey = `${prefix}:all`;
  let redisBruteMsPerLookup = 0;
  try {
    for (let i = 0; i < OUTPUTS; i += 10_000) await redis2.rpush(listKey, ...hashes.slice(i, i + 10_000));
    const probes = 10;
    const r0 = performance.now();
    for (let k = 0; k < probes; k++) {
      const all = await redis2.lrange(listKey, 0, -1);
      const probe = hashes[OUTPUTS - 1 - k] as string;
      let near = 0;
      for (const h of all) if (hammingDistance(h, probe) <= max) near++;
      if (near === 0) throw new Error('brute force missed the probe itself');
    }
    redisBruteMsPerLookup = (performance.now() - r0) / probes;
  } finally {
    await redis2.del(listKey);
    redis2.disconnect();
  }
  // Sanity: every planted copy is within the limit of its original.
  for (let i = 0; i < PLANTED; i++) {
    if (hammingDistance(hashes[OUTPUTS - PLANTED + i] as string, hashes[i * 100] as string) > max) {
      throw new Error('planted copy too far');
    }
  }
  return {
    indexMs,
    indexLastThousandMedianMs: lastThousand[Math.floor(lastThousand.length / 2)] as number,
    redisBruteMsPerLookup,
    indexP99Ms: latencies[Math.floor(latencies.length * 0.99)] as number,
    indexFound,
    bruteMs,
    bruteFound,
    bruteLastThousandMsPerLookup,
  };
}

const load = loadavg()[0] ?? 0;
const cpu = await cpuRows();
const found = await search();
const date = new Date().toISOString().slice(0, 10);
const f = (v: number, d = 1) => v.toFixed(d);
const lines = [
  '## Output QA (issue 17)',
  '',
  `Command: \`pnpm bench:qa\` · date: ${date} · test/bench/qa/bench.ts · load average before the run ${f(load, 1)}`,
  '',
  'CPU per image (process CPU time, user + system over all threads, median). "Before QA" is the',
  "worker's thumbnail as it was (one sharp chain: decode, shrink, WebP); now the image is decoded once to",
  'a 256 px preview, the thumbnail is encoded from it and the checks run on it. Photo-like PNGs.',
  '',
  '| size | PNG | thumbnail before QA | now: decode | now: thumbnail | now: checks | now, total | checks / (decode + thumbnail) | now vs before |',
  '|---|---|---|---|---|---|---|---|---|',
  ...cpu.map((r) => {
    const now = r.decode + r.thumbnail + r.checks;
    return `| ${r.size} | ${f(r.bytes / 1e6)} MB | ${f(r.before)} ms | ${f(r.decode)} ms | ${f(r.thumbnail, 2)} ms | ${f(r.checks, 2)} ms | ${f(now)} ms | ${f((100 * r.checks) / (r.decode + r.thumbnail))} % | ${f((100 * (now - r.before)) / r.before)} % |`;
  }),
  '',
  `Near-duplicate search, ${OUTPUTS.toLocaleString('en')} outputs of one batch (random 64-bit hashes, ${PLANTED} near-copies 1-6 bits off planted at the end, limit ${defaultQaThresholds.duplicateMaxDistance} bits):`,
  '',
  '| method | total | per output | copies found |',
  '|---|---|---|---|',
  `| QaIndexStore (Redis, record + look up, ${IN_FLIGHT} in flight) | ${f(found.indexMs / 1000, 2)} s | ${f((found.indexMs * 1000) / OUTPUTS, 0)} µs (p99 one call ${f(found.indexP99Ms, 1)} ms) | ${found.indexFound} / ${PLANTED} |`,
  `| brute force in memory (each output vs every earlier one) | ${f(found.bruteMs / 1000, 2)} s | ${f((found.bruteMs * 1000) / OUTPUTS, 0)} µs (${f(found.bruteLastThousandMsPerLookup, 2)} ms per lookup at 100,000) | ${found.bruteFound} / ${PLANTED} |`,
  `| brute force across workers (read the batch's 100,000 hashes from Redis, compare) | ${f((found.redisBruteMsPerLookup * OUTPUTS) / 2 / 1000, 0)} s projected | ${f(found.redisBruteMsPerLookup, 1)} ms per lookup at 100,000 | (10 probes) |`,
  '',
  `One index call at about 100,000 recorded outputs: median ${f(found.indexLastThousandMedianMs, 2)} ms wall (32 in flight); each call reads 4 x 17 buckets whatever the batch size.`,
];
console.log(lines.join('\n'));
console.log(JSON.stringify({ load, cpu, search: found }));
