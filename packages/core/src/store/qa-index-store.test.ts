import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, test } from 'vitest';
import { useTestRedis } from '../test-support/index.js';
import { hammingDistance, QaIndexStore } from './qa-index-store.js';

const db = useTestRedis('core-qa-index');
const { prefix } = db;
let redis: Redis;
let index: QaIndexStore;

beforeAll(() => {
  redis = db.redis;
  index = new QaIndexStore(redis, prefix);
});

/** A deterministic pseudo-random 64-bit hash (xorshift), as 16 hex digits. */
function hashes(count: number, seed: number): string[] {
  let s = BigInt(seed) | 1n;
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

/** `hash` with the given bit positions (0 = lowest) flipped. */
function flip(hash: string, bits: number[]): string {
  let v = BigInt(`0x${hash}`);
  for (const b of bits) v ^= 1n << BigInt(b);
  return v.toString(16).padStart(16, '0');
}

describe('hammingDistance', () => {
  test('counts differing bits over all 64', () => {
    expect(hammingDistance('0000000000000000', '0000000000000000')).toBe(0);
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('8000000000000001', '0000000000000000')).toBe(2);
    expect(() => hammingDistance('xyz', '0000000000000000')).toThrow(RangeError);
  });
});

describe('QaIndexStore', () => {
  test('finds exactly what a brute-force scan finds, across outputs recorded in concurrent chunks', async () => {
    const tenant = 'acme';
    const batch = `batch_${randomUUID()}`;
    const base = hashes(3000, 7);
    // Recorded the way workers do: many at once, in chunks.
    for (let i = 0; i < base.length; i += 500) {
      await Promise.all(
        base
          .slice(i, i + 500)
          .map((h, k) =>
            index.addAndFind(tenant, batch, { customId: `sku-${i + k}`, index: 0, dhash: h }, 6),
          ),
      );
    }
    // Near copies at distances 0..9 of a few recorded outputs, spread over all four chunks.
    const cases = [
      { of: 10, bits: [] },
      { of: 20, bits: [3] },
      { of: 30, bits: [1, 17, 33, 49] },
      { of: 40, bits: [0, 5, 16, 20, 40, 63] },
      { of: 50, bits: [0, 1, 2, 3, 4, 5, 6] },
      { of: 60, bits: [0, 1, 2, 3, 4, 5, 6, 7, 8] },
    ];
    for (const [k, c] of cases.entries()) {
      const probe = flip(base[c.of] as string, c.bits);
      const found = await index.addAndFind(
        tenant,
        batch,
        { customId: `copy-${k}`, index: 0, dhash: probe },
        6,
      );
      const brute = base
        .map((h, i) => ({ customId: `sku-${i}`, distance: hammingDistance(h, probe) }))
        .filter((x) => x.distance <= 6);
      expect(found.map((f) => [f.customId, f.distance]).sort()).toEqual(
        brute.map((b) => [b.customId, b.distance]).sort(),
      );
      if (c.bits.length <= 6)
        expect(found[0]).toMatchObject({ customId: `sku-${c.of}`, distance: c.bits.length });
      else expect(found.find((f) => f.customId === `sku-${c.of}`)).toBeUndefined();
    }
  });

  test('ignores the same custom_id (its own variants and retries)', async () => {
    const batch = `batch_${randomUUID()}`;
    const h = '0123456789abcdef';
    expect(await index.addAndFind('acme', batch, { customId: 'a', index: 0, dhash: h }, 6)).toEqual([]);
    expect(await index.addAndFind('acme', batch, { customId: 'a', index: 1, dhash: h }, 6)).toEqual([]);
    expect(await index.addAndFind('acme', batch, { customId: 'a', index: 0, dhash: h }, 6)).toEqual([]);
    expect(
      await index.addAndFind('acme', batch, { customId: 'b', index: 0, dhash: flip(h, [2]) }, 6),
    ).toEqual([
      { customId: 'a', index: 0, dhash: h, distance: 1 },
      { customId: 'a', index: 1, dhash: h, distance: 1 },
    ]);
  });

  test('keeps tenants and batches apart, and the keys expire', async () => {
    const batch = `batch_${randomUUID()}`;
    const other = `batch_${randomUUID()}`;
    const h = 'fedcba9876543210';
    await index.addAndFind('acme', batch, { customId: 'a', index: 0, dhash: h }, 6);
    // Same hash, same batch id but another tenant; and the same tenant's other batch.
    expect(await index.addAndFind('globex', batch, { customId: 'b', index: 0, dhash: h }, 6)).toEqual([]);
    expect(await index.addAndFind('acme', other, { customId: 'b', index: 0, dhash: h }, 6)).toEqual([]);
    expect(await index.addAndFind('acme', batch, { customId: 'c', index: 0, dhash: h }, 6)).toHaveLength(1);
    for (const key of index.keys('acme', batch)) expect(await redis.ttl(key)).toBeGreaterThan(0);
  });

  test('refuses distances the index cannot answer exactly', async () => {
    await expect(
      index.addAndFind('acme', 'b', { customId: 'a', index: 0, dhash: '0000000000000000' }, 12),
    ).rejects.toThrow(RangeError);
  });
});
