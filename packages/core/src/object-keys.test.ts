import { describe, expect, it } from 'vitest';
import {
  batchFileKey,
  isUnderRoot,
  type KeyParts,
  ObjectKeyError,
  objectKeyProblems,
  outputKeyFor,
  tenantRoot,
  thumbnailKey,
} from './object-keys.js';

const parts: KeyParts = {
  root: tenantRoot('acme'),
  prefix: 'catalog/fall',
  batchId: 'batch_1',
  customId: 'sku-1',
  format: 'png',
};

describe('outputKeyFor', () => {
  it('puts every key under the tenant root, ahead of the prefix', () => {
    expect(outputKeyFor(parts, 2)).toBe('acme/catalog/fall/batch_1/sku-1/2.png');
    expect(outputKeyFor({ ...parts, prefix: '' }, 0)).toBe('acme/batch_1/sku-1/0.png');
    expect(outputKeyFor({ ...parts, format: 'jpeg', keyTemplate: '{prefix}{custom_id}.{ext}' }, 0)).toBe(
      'acme/catalog/fall/sku-1.jpg',
    );
  });

  it('refuses a template that climbs out of the root through its placeholders', () => {
    const climbing = { ...parts, prefix: '.', keyTemplate: '.{prefix}.{prefix}{custom_id}.{ext}' };
    expect(() => outputKeyFor(climbing, 0)).toThrow(ObjectKeyError);
    expect(() => outputKeyFor({ ...parts, keyTemplate: 'x//{custom_id}' }, 0)).toThrow(/empty segment/);
  });

  it('refuses a key whose thumbnail would not fit a segment', () => {
    const customId = 'a'.repeat(245);
    expect(() => outputKeyFor({ ...parts, keyTemplate: '{custom_id}.{ext}', customId }, 0)).toThrow(
      /segment is 256 bytes/,
    );
  });
});

describe('objectKeyProblems', () => {
  it('accepts ordinary keys', () => {
    expect(objectKeyProblems('acme/catalog/batch_1/sku-1/0.png')).toEqual([]);
    expect(objectKeyProblems(`acme/${'a'.repeat(255)}`)).toEqual([]);
  });

  it('names each rule a key breaks', () => {
    expect(objectKeyProblems('acme/../b')).toEqual(['The key has a . or .. segment']);
    expect(objectKeyProblems('acme/./b')).toEqual(['The key has a . or .. segment']);
    expect(objectKeyProblems('/acme/b')[0]).toMatch(/empty segment/);
    expect(objectKeyProblems('acme/b/')[0]).toMatch(/empty segment/);
    expect(objectKeyProblems('acme/b c')[0]).toMatch(/only letters/);
    expect(objectKeyProblems(`acme/${'a'.repeat(256)}`)[0]).toMatch(/256 bytes/);
    const long = Array.from({ length: 10 }, () => 'a'.repeat(110)).join('/');
    expect(objectKeyProblems(long)[0]).toBe('The key is 1109 bytes; S3 allows 1024');
  });
});

describe('tenant roots', () => {
  it('keeps one tenant out of another whose id starts the same', () => {
    expect(isUnderRoot('acme/x/0.png', tenantRoot('acme'))).toBe(true);
    expect(isUnderRoot('acme-eu/x/0.png', tenantRoot('acme'))).toBe(false);
    expect(isUnderRoot('acme', tenantRoot('acme'))).toBe(false);
  });

  it('puts the batch files under the root and the prefix', () => {
    expect(batchFileKey({ root: 'acme/', prefix: 'catalog', batchId: 'batch_1' }, 'manifest.jsonl')).toBe(
      'acme/catalog/batch_1/manifest.jsonl',
    );
    expect(batchFileKey({ root: 'acme/', prefix: '', batchId: 'batch_1' }, 'results.csv')).toBe(
      'acme/batch_1/results.csv',
    );
  });
});

describe('thumbnailKey', () => {
  it('replaces the extension of the last path segment', () => {
    expect(thumbnailKey('catalog/batch_1/sku-1/0.png')).toBe('catalog/batch_1/sku-1/0.thumb.webp');
    expect(thumbnailKey('batch_1/sku.v2/3.jpg')).toBe('batch_1/sku.v2/3.thumb.webp');
    expect(thumbnailKey('batch_1/sku.v2/3')).toBe('batch_1/sku.v2/3.thumb.webp');
  });
});
