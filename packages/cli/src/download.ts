import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Client, Json } from './client.js';

export interface DownloadResult {
  downloaded: number;
  skipped: number;
  failed: { key: string; error: string }[];
}

async function sha256OfFile(path: string): Promise<string | null> {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return null;
  }
}

/** The local path of an output: its bucket key under the folder (never outside it). */
function localPath(out: string, key: string): string {
  const root = resolve(out);
  const path = resolve(root, key);
  if (path !== root && !path.startsWith(root + sep)) throw new Error(`Key ${key} leaves the folder`);
  return path;
}

async function fetchTo(url: string, path: string, expectedSha: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
  await mkdir(dirname(path), { recursive: true });
  // Written beside the target and renamed once complete and verified: an interrupted run leaves no
  // half file that a later run would take for done.
  const part = `${path}.part`;
  const hash = createHash('sha256');
  const source = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
  source.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(source, createWriteStream(part));
  const got = hash.digest('hex');
  if (got !== expectedSha) {
    await rm(part, { force: true });
    throw new Error(`sha256 mismatch (got ${got}, expected ${expectedSha})`);
  }
  await rename(part, path);
}

/**
 * The outputs of an item to download: its chosen version's (`outputs`); with `approved`, only the
 * chosen variant when one was chosen.
 */
function outputsOf(item: Json, approved: boolean): Json[] {
  const outputs = (item.outputs ?? []) as Json[];
  const index = item.chosen?.index;
  if (!approved || index === null || index === undefined) return outputs;
  return outputs.filter((o) => o.index === index);
}

/**
 * Mirrors a batch's outputs into a folder (`<folder>/<bucket key>`), several at a time. Resumable: a file
 * already there with the output's SHA-256 is skipped. Also writes the batch's results.csv beside them.
 * `approved`: only items whose review is approved, and of each only its chosen output(s).
 */
export async function download(
  client: Client,
  batchId: string,
  out: string,
  opts: { concurrency?: number; approved?: boolean; onProgress?: (r: DownloadResult) => void } = {},
): Promise<DownloadResult> {
  const result: DownloadResult = { downloaded: 0, skipped: 0, failed: [] };
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const running = new Set<Promise<void>>();
  const one = async (output: Json) => {
    try {
      const path = localPath(out, output.key);
      if ((await sha256OfFile(path)) === output.sha256) result.skipped += 1;
      else {
        await fetchTo(output.url, path, output.sha256);
        result.downloaded += 1;
      }
    } catch (err) {
      result.failed.push({ key: output.key, error: (err as Error).message });
    }
    opts.onProgress?.(result);
  };
  const query = opts.approved ? 'status=succeeded&review=approved' : 'status=succeeded';
  for await (const items of client.pages(`/v1/batches/${batchId}/items?${query}`, 200)) {
    for (const item of items) {
      for (const output of outputsOf(item, opts.approved === true)) {
        const task = one(output).finally(() => running.delete(task));
        running.add(task);
        if (running.size >= concurrency) await Promise.race(running);
      }
    }
  }
  await Promise.all(running);
  const csv = await fetch(client.url(`/v1/batches/${batchId}/results`), {
    headers: { authorization: `Bearer ${client.options.apiKey}` },
  });
  if (csv.ok && csv.body) {
    await mkdir(resolve(out), { recursive: true });
    await pipeline(
      Readable.fromWeb(csv.body as unknown as WebReadableStream<Uint8Array>),
      createWriteStream(join(resolve(out), `${batchId}-results.csv`)),
    );
  }
  return result;
}
