import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Which output an image becomes: the same three parts that make its bucket key. */
export interface SpoolSlot {
  batchId: string;
  customId: string;
  index: number;
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * A directory of images the provider has returned (and charged for) but that are not yet in the
 * bucket. Bytes are written here before the upload starts and removed once the output is recorded,
 * so a worker that crashes mid-upload, or an S3 outage that outlasts an attempt, costs an upload
 * retry instead of a second generation. Workers that share the directory (same host, or a shared
 * volume) recover each other's spooled images.
 */
export class Spool {
  constructor(readonly dir: string) {}

  /** `<dir>/<batch>/<hash of custom_id>/<index>.img`: custom ids may hold characters unsafe in paths. */
  private itemDir(batchId: string, customId: string): string {
    const hashed = createHash('sha256').update(customId).digest('hex').slice(0, 32);
    return join(this.dir, batchId.replace(/[^A-Za-z0-9_-]/g, '_'), hashed);
  }

  private pathOf(slot: SpoolSlot): string {
    return join(this.itemDir(slot.batchId, slot.customId), `${slot.index}.img`);
  }

  /** Written under a temporary name and renamed, so a crash never leaves a truncated image behind. */
  async save(slot: SpoolSlot, bytes: Buffer): Promise<void> {
    const path = this.pathOf(slot);
    await mkdir(this.itemDir(slot.batchId, slot.customId), { recursive: true });
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  }

  async load(slot: SpoolSlot): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(slot));
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async remove(slot: SpoolSlot): Promise<void> {
    await rm(this.pathOf(slot), { force: true });
    // Drop the item's and batch's folders once empty; another writer may have refilled them.
    const itemDir = this.itemDir(slot.batchId, slot.customId);
    for (const dir of [itemDir, join(itemDir, '..')]) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }

  /** Removes every spooled image of an item (it will never be stored); returns the indexes removed. */
  async removeItem(batchId: string, customId: string): Promise<number[]> {
    const indexes = await this.indexes(batchId, customId);
    for (const index of indexes) await this.remove({ batchId, customId, index });
    return indexes;
  }

  /** Indexes of an item's spooled images, ascending. */
  async indexes(batchId: string, customId: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.itemDir(batchId, customId));
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    return names
      .map((n) => /^(\d+)\.img$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Files and bytes waiting in the spool (for /metrics). */
  async usage(): Promise<{ files: number; bytes: number }> {
    let files = 0;
    let bytes = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory()) await walk(path);
        else if (e.name.endsWith('.img')) {
          files += 1;
          bytes += (await stat(path).catch(() => ({ size: 0 }))).size;
        }
      }
    };
    await walk(this.dir);
    return { files, bytes };
  }
}
