import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

let dir: string;
let spool: Spool;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixelmill-spool-test-'));
  spool = new Spool(join(dir, 'spool'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const slot = (index: number, customId = 'sku/1 front') => ({ batchId: 'batch_1', customId, index });

describe('Spool', () => {
  it('keeps bytes per batch, custom id and index until removed', async () => {
    await spool.save(slot(1), Buffer.from('one'));
    await spool.save(slot(0), Buffer.from('zero'));
    await spool.save(slot(0, 'other'), Buffer.from('x'));
    expect(await spool.indexes('batch_1', 'sku/1 front')).toEqual([0, 1]);
    expect((await spool.load(slot(1)))?.toString()).toBe('one');
    expect(await spool.usage()).toEqual({ files: 3, bytes: 8 });

    await spool.remove(slot(0));
    await spool.remove(slot(1));
    expect(await spool.load(slot(1))).toBeNull();
    expect(await spool.indexes('batch_1', 'sku/1 front')).toEqual([]);
    expect(await spool.usage()).toEqual({ files: 1, bytes: 1 });
  });

  it('overwrites a slot atomically and leaves no temporary file behind', async () => {
    await spool.save(slot(0), Buffer.from('first'));
    await spool.save(slot(0), Buffer.from('second'));
    expect((await spool.load(slot(0)))?.toString()).toBe('second');
    const [batchDir] = await readdir(join(dir, 'spool'));
    const [itemDir] = await readdir(join(dir, 'spool', batchDir!));
    expect(await readdir(join(dir, 'spool', batchDir!, itemDir!))).toEqual(['0.img']);
  });

  it('answers empty for a spool directory that does not exist yet, and removing twice is fine', async () => {
    expect(await spool.indexes('batch_9', 'a')).toEqual([]);
    expect(await spool.load(slot(0))).toBeNull();
    expect(await spool.usage()).toEqual({ files: 0, bytes: 0 });
    await spool.remove(slot(0));
    await spool.remove(slot(0));
  });

  it('removes every image of one item at once, and only that item', async () => {
    await spool.save(slot(0), Buffer.from('a'));
    await spool.save(slot(2), Buffer.from('c'));
    await spool.save(slot(0, 'other'), Buffer.from('x'));
    expect(await spool.removeItem('batch_1', 'sku/1 front')).toEqual([0, 2]);
    expect(await spool.indexes('batch_1', 'sku/1 front')).toEqual([]);
    expect(await spool.indexes('batch_1', 'other')).toEqual([0]);
    expect(await spool.removeItem('batch_1', 'sku/1 front')).toEqual([]);
  });

  it('drops empty item and batch folders, so the spool does not fill with directories', async () => {
    await spool.save(slot(0), Buffer.from('a'));
    await spool.remove(slot(0));
    expect(await readdir(join(dir, 'spool'))).toEqual([]);
  });
});
