/**
 * Contender (b): what a user without a scheduler writes: the official OpenAI SDK with its default
 * retries (maxRetries 2, honouring retry-after-ms), a p-limit pool, keys used in turn. Both batches
 * share the one pool, first come first served.
 */
import OpenAI from 'openai';
import pLimit from 'p-limit';
import { BIG_ITEMS, MODEL, prompt, type RunReport, SMALL_AT_MS, SMALL_ITEMS, sleep } from './workload.js';

/** The pool size a user would pick for "about 10 requests per second at ~1 s each". */
export const NAIVE_CONCURRENCY = Number(process.env.BENCH_NAIVE_CONCURRENCY ?? 20);

export async function runNaive(simUrl: string, keys: string[], startAt: number): Promise<RunReport> {
  const clients = keys.map((apiKey) => new OpenAI({ apiKey, baseURL: `${simUrl}/v1` }));
  const limit = pLimit(NAIVE_CONCURRENCY);
  let turn = 0;
  let succeeded = 0;
  let failed = 0;
  const one = (tag: string, i: number, onStart?: () => void) =>
    limit(async () => {
      onStart?.();
      const client = clients[turn++ % clients.length]!;
      try {
        await client.images.generate({ model: MODEL, prompt: prompt(tag, i), n: 1, size: '1024x1024' });
        succeeded++;
      } catch {
        failed++;
      }
      return Date.now();
    });

  await sleep(startAt - Date.now());
  const startedAt = Date.now();
  const big = Array.from({ length: BIG_ITEMS }, (_, i) => one('big', i));
  await sleep(startedAt + SMALL_AT_MS - Date.now());
  const submittedAt = Date.now();
  let firstStartAt = Number.POSITIVE_INFINITY;
  const small = Array.from({ length: SMALL_ITEMS }, (_, i) =>
    one('small', i, () => {
      firstStartAt = Math.min(firstStartAt, Date.now());
    }),
  );
  const smallEnds = await Promise.all(small);
  const bigEnds = await Promise.all(big);
  return {
    startedAt,
    acceptedAt: startedAt,
    endedAt: Math.max(...bigEnds, ...smallEnds),
    succeeded,
    failed,
    small: { submittedAt, acceptedAt: submittedAt, firstStartAt, doneAt: Math.max(...smallEnds) },
  };
}
