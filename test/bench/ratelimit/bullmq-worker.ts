/**
 * Contender (c), one worker process: BullMQ's built-in limiter set to the declared total rate
 * (`limiter: {max, duration}` is shared by all workers of the queue), retries by BullMQ (attempts 5,
 * exponential backoff), the SDK's own retries off so the limiter sees every request. Prints "ready".
 */
import { Worker } from 'bullmq';
import OpenAI from 'openai';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};
const keys = env('BENCH_KEYS').split(',');
const clients = keys.map((apiKey) => new OpenAI({ apiKey, baseURL: `${env('SIM_URL')}/v1`, maxRetries: 0 }));
let turn = 0;
const url = new URL(env('REDIS_URL'));

const worker = new Worker(
  env('BENCH_QUEUE'),
  async (job) => {
    const client = clients[turn++ % clients.length]!;
    await client.images.generate({
      model: env('BENCH_MODEL'),
      prompt: job.data.prompt,
      n: 1,
      size: '1024x1024',
    });
  },
  {
    connection: { host: url.hostname, port: Number(url.port || 6379) },
    prefix: env('BENCH_PREFIX'),
    concurrency: Number(env('BENCH_CONCURRENCY')),
    limiter: { max: Number(env('BENCH_LIMIT_MAX')), duration: Number(env('BENCH_LIMIT_MS')) },
  },
);
await worker.waitUntilReady();
process.stdout.write('ready\n');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void worker.close(true).then(() => process.exit(0));
  });
}
