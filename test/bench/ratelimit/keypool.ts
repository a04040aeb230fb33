/**
 * Key-pool mode (issue 14): `pnpm bench:ratelimit --keypool`.
 * Each provider has a good key and a revoked one, as users' key pools do: the simulator answers the
 * revoked Gemini key 400 INVALID_ARGUMENT / API_KEY_INVALID and the revoked OpenAI key 401
 * invalid_api_key. Reports the items that failed and the calls made to each revoked key, in total
 * (the simulator's count) and per worker process (its log lines quoting the refusal).
 */

import { logTable } from './logs.js';
import { met, submit, waitDone, withStack } from './single-stack.js';

const GEMINI = {
  model: 'gemini-3.1-flash-image',
  good: 'gem-good-key',
  revoked: 'gem-revoked-key',
  items: 40,
};
const OPENAI = { model: 'gpt-image-1-mini', good: 'oai-good-key', revoked: 'oai-revoked-key', items: 20 };
/** The simulator's refusal messages (provider-sim gemini.ts / openai-images.ts). */
const REFUSED = [/API key not valid/, /Incorrect API key provided/];

const config = `
providers:
  - name: gemini
    kind: gemini
    base_url: "{{SIM_URL}}"
    api_keys: [${GEMINI.good}, ${GEMINI.revoked}]
    models:
      - id: ${GEMINI.model}
        rpm: 600
        concurrency: 8
        timeout_s: 30
  - name: openai
    kind: openai-images
    base_url: "{{SIM_URL}}/v1"
    api_keys: [${OPENAI.good}, ${OPENAI.revoked}]
    models:
      - id: ${OPENAI.model}
        rpm: 600
        concurrency: 8
        timeout_s: 30
`;

export async function runKeyPool(): Promise<void> {
  const began = Date.now();
  const run = await withStack(
    {
      SIM_SEED: '2',
      SIM_LATENCY_MS: '200-800',
      SIM_REVOKED_KEYS: [GEMINI.revoked, OPENAI.revoked].join(','),
    },
    config,
    { WORKER_CONCURRENCY: '8' },
    async (stack, sim) => {
      const ids = await Promise.all(
        [GEMINI, OPENAI].map((p) => submit(stack, stack.apiKey, p.model, p.model, p.items)),
      );
      const done = await Promise.all(ids.map((id) => waitDone(stack, stack.apiKey, id, 600_000)));
      return { done, stats: await sim.stats() };
    },
  );
  const { done, stats } = run.result;
  // Image calls and free key checks (model listings) alike.
  const calls = (key: string) => (stats.byKey[key]?.requests ?? 0) + (stats.keyChecks[key]?.requests ?? 0);
  const workers = run.outputs.filter((o) => o.name.startsWith('worker'));
  const perWorker = workers.map((w) => ({
    name: w.name,
    gemini: w.output.split('\n').filter((l) => REFUSED[0]!.test(l)).length,
    openai: w.output.split('\n').filter((l) => REFUSED[1]!.test(l)).length,
  }));
  const row = (p: typeof GEMINI, d: (typeof done)[number], which: 'gemini' | 'openai') => {
    const each = perWorker.map((w) => w[which]);
    const codes = Object.entries(d.failedCodes)
      .map(([c, n]) => `${n} ${c}`)
      .join(', ');
    return `| ${p.model} (${p.items} items) | ${d.succeeded} / ${d.failed}${codes ? ` (${codes})` : ''} | ${calls(p.revoked)} | ${each.join(' / ')} | ${met(d.failed === 0 && each.every((n) => n <= 1))} |`;
  };
  const logs = run.logs.total;
  console.log(`
### Key pool with a revoked key (issue 14)

Command: \`pnpm bench:ratelimit --keypool\` (${new Date().toISOString().slice(0, 10)}, ${((Date.now() - began) / 1000).toFixed(0)} s)

API + 2 worker processes (WORKER_CONCURRENCY 8); Gemini keys [good, revoked] (revoked: 400 INVALID_ARGUMENT /
API_KEY_INVALID), OpenAI keys [good, revoked] (revoked: 401 invalid_api_key); both batches submitted at once.
Calls per worker process are that process's log lines quoting the refusal (one per failed call).

| model | items succeeded / failed | calls to the revoked key (simulator: image calls + key checks) | of which per worker process (log lines) | target: 0 failed, ≤ 1 call per process |
|---|---|---|---|---|
${row(GEMINI, done[0]!, 'gemini')}
${row(OPENAI, done[1]!, 'openai')}

Error / "Missing lock" / "stalled" log lines: ${logs.error} / ${logs.missingLock} / ${logs.stalled}

${logTable(run.logs)}
`);
  console.log(
    JSON.stringify({
      mode: 'keypool',
      done,
      revokedCalls: [calls(GEMINI.revoked), calls(OPENAI.revoked)],
      perWorker,
    }),
  );
}
