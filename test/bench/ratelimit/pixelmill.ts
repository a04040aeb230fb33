import { writeFileSync } from 'node:fs';
/** Contender (a): pixelmill itself, through its HTTP API, with the stack's two worker processes. */
import { allItems, call, type Stack } from '../../support/stack.js';
import {
  BIG_ITEMS,
  MODEL,
  PER_KEY,
  prompt,
  type RunReport,
  SMALL_AT_MS,
  SMALL_ITEMS,
  sleep,
} from './workload.js';

/** PIXELMILL_CONFIG for the stack: the declared limit is exactly the simulator's per-key limit. */
export function pixelmillConfig(keys: string[]): string {
  return `
providers:
  - name: openai
    kind: openai-images
    base_url: "{{SIM_URL}}/v1"
    api_keys: [${keys.join(', ')}]
    models:
      - id: ${MODEL}
        rpm: ${PER_KEY}
        ipm: ${PER_KEY}
        concurrency: 64
        timeout_s: 30
`;
}

async function submit(stack: Stack, apiKey: string, tag: string, count: number): Promise<string> {
  const res = await call(stack, apiKey, 'POST', '/v1/batches', {
    model: MODEL,
    items: Array.from({ length: count }, (_, i) => ({ custom_id: `${tag}-${i}`, prompt: prompt(tag, i) })),
  });
  if (res.status !== 201) throw new Error(`submit ${tag}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.id as string;
}

async function waitDone(
  stack: Stack,
  apiKey: string,
  id: string,
): Promise<{
  at: number;
  batch: { counts: { succeeded: number; failed: number }; completed_at: string | null };
}> {
  for (;;) {
    const res = await call(stack, apiKey, 'GET', `/v1/batches/${id}`);
    if (res.json?.status === 'completed') return { at: Date.now(), batch: res.json };
    await sleep(200);
  }
}

export async function runPixelmill(stack: Stack, startAt: number): Promise<RunReport> {
  await sleep(startAt - Date.now());
  const startedAt = Date.now();
  const big = await submit(stack, stack.apiKey, 'big', BIG_ITEMS);
  const acceptedAt = Date.now();
  const bigDone = waitDone(stack, stack.apiKey, big);
  await sleep(startedAt + SMALL_AT_MS - Date.now());
  const smallSubmittedAt = Date.now();
  const small = await submit(stack, stack.otherApiKey, 'small', SMALL_ITEMS);
  const smallAcceptedAt = Date.now();
  const smallDone = await waitDone(stack, stack.otherApiKey, small);
  const items = (await call(stack, stack.otherApiKey, 'GET', `/v1/batches/${small}/items?limit=100`)).json
    .data as { started_at: string | null; finished_at: string | null; attempts: number }[];
  const starts = items.map((i) => Date.parse(i.started_at ?? '')).filter(Number.isFinite);
  const ends = items.map((i) => Date.parse(i.finished_at ?? '')).filter(Number.isFinite);
  const bigResult = await bigDone;
  const counts = [bigResult.batch.counts, smallDone.batch.counts];
  // The run ends when pixelmill completed both batches (its own completed_at, as the other
  // contenders report their last job's end), not when the 200 ms poller next looked.
  const completedAt = Math.max(
    Date.parse(bigResult.batch.completed_at ?? ''),
    Date.parse(smallDone.batch.completed_at ?? ''),
  );
  // Where the makespan goes: every item of the big batch, page by page.
  const bigItems: { started_at: string | null; finished_at: string | null; attempts: number }[] =
    await allItems(stack, stack.apiKey, big, 1000);
  // BENCH_DUMP=<file>: every item as the API lists it, for a closer look at the makespan's tail.
  if (process.env.BENCH_DUMP)
    writeFileSync(`${process.env.BENCH_DUMP}.items.json`, JSON.stringify([...bigItems, ...items]));
  const times = (field: 'started_at' | 'finished_at') =>
    [...bigItems, ...items].map((i) => Date.parse(i[field] ?? '')).filter(Number.isFinite);
  // The makespan's tail: the last items to end, and how many provider calls each took.
  const tail = [...bigItems, ...items]
    .filter((i) => i.finished_at !== null)
    .map((i) => ({ endedAt: Date.parse(i.finished_at ?? ''), attempts: i.attempts }))
    .sort((a, b) => b.endedAt - a.endedAt)
    .slice(0, 5);
  return {
    startedAt,
    acceptedAt,
    tail,
    endedAt: completedAt,
    succeeded: counts.reduce((s, c) => s + c.succeeded, 0),
    failed: counts.reduce((s, c) => s + c.failed, 0),
    phases: {
      firstStartAt: Math.min(...times('started_at')),
      lastEndAt: Math.max(...times('finished_at')),
      completedAt,
      polledAt: Math.max(bigResult.at, smallDone.at),
    },
    small: {
      submittedAt: smallSubmittedAt,
      acceptedAt: smallAcceptedAt,
      firstStartAt: Math.min(...starts),
      doneAt: Math.max(...ends),
    },
  };
}
