/**
 * Presigned GET URLs benchmark: `pnpm bench:presign`.
 *
 * results.csv carries one presigned URL per output, written when a batch completes (and served
 * fresh by GET /v1/batches/{id}/results), so signing sits on the path from a batch's last item to
 * its `batch.completed`. This times the store's `presignGet` against the SDK's documented way, one
 * `getSignedUrl` per URL, in the same run (alternating, several rounds), for the same keys, and
 * checks that both give the same URL for a sample of keys at one signing date. Nothing is sent:
 * signing is local.
 *
 * Prints a Markdown table for BENCHMARKS.md and the raw numbers as JSON.
 */
import { loadavg } from 'node:os';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Store } from '@pixelmill/storage';

const URLS = Number(process.env.BENCH_URLS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BUCKET = 'pixelmill-out';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const store = createS3Store({
    region: 'eu-west-1',
    bucket: BUCKET,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  });
  const keys = Array.from({ length: URLS }, (_, i) => `acme/catalog/fall/batch_bench/sku-${i}-front/0.png`);
  const sdk = (key: string, signingDate?: Date) =>
    getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), {
      expiresIn: 3600,
      ...(signingDate ? { signingDate } : {}),
    });
  try {
    // Both sides sign the same key in the same second: the URLs must be equal, byte for byte.
    let compared = 0;
    for (const key of keys.slice(0, 200)) {
      const at = new Date();
      const [theirs, ours] = [await sdk(key, at), await store.presignGet(key, 3600)];
      if (Math.floor(Date.now() / 1000) !== Math.floor(at.getTime() / 1000)) continue;
      if (ours !== theirs) throw new Error(`the store's URL differs from the SDK's for ${key}`);
      compared += 1;
    }
    if (compared === 0) throw new Error('no URL pair signed within one second: nothing compared');
    const times: Record<'sdk' | 'store', number[]> = { sdk: [], store: [] };
    for (let round = 0; round < ROUNDS; round++) {
      let t = performance.now();
      for (const key of keys) await sdk(key);
      times.sdk.push(performance.now() - t);
      t = performance.now();
      for (const key of keys) await store.presignGet(key, 3600);
      times.store.push(performance.now() - t);
    }
    const perUrl = (ms: number) => ((ms * 1000) / URLS).toFixed(1);
    const base = median(times.sdk);
    console.log(
      [
        `### Presigned GET URLs (${new Date().toISOString().slice(0, 10)}, \`pnpm bench:presign\`, load average ${loadavg()[0]?.toFixed(1)})`,
        '',
        `${URLS.toLocaleString('en')} URLs per round, one at a time, ${ROUNDS} rounds alternating; ${compared} URL pairs signed in the same second compared equal.`,
        '',
        '| signer | ms per round | median µs per URL | vs baseline |',
        '|---|---|---|---|',
        `| baseline: \`getSignedUrl\` per URL | ${times.sdk.map((x) => x.toFixed(0)).join(' / ')} | ${perUrl(base)} | 1.00 |`,
        `| the store's \`presignGet\` | ${times.store.map((x) => x.toFixed(0)).join(' / ')} | ${perUrl(median(times.store))} | ${(median(times.store) / base).toFixed(3)} |`,
      ].join('\n'),
    );
    console.log(JSON.stringify({ urls: URLS, compared, ...times }));
  } finally {
    store.destroy();
  }
}

await main();
