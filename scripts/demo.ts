/**
 * `pnpm demo`: the whole product on one machine with no keys and no Docker. Starts (or reuses) Redis,
 * an embedded S3 server under .pixelmill/, the provider simulator, the API and a worker; submits the
 * sample catalog in examples/catalog.csv; shows progress; copies the images to .pixelmill/images/.
 * The same catalog also goes through the economy lane (the simulated Gemini Batch API in accelerated
 * time: a provider job takes ECONOMY_JOB_MS instead of up to 24 h), and both bills are printed side by
 * side: estimate and actual, per lane.
 *
 * Interactive runs keep the services up afterwards so the API can be explored; `--exit` (or a
 * non-interactive run) stops everything once the batch is done.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Batch, components } from '@pixelmill/client';
import { startSim } from '@pixelmill/provider-sim';
import { localS3Credentials, startLocalS3 } from '@pixelmill/storage';
import { generateWebhookSecret, verifyNodeRequest } from '@pixelmill/webhooks';
import { SingleBar } from 'cli-progress';
import { parse } from 'csv-parse/sync';
import { ensureRedis } from './local-redis.mjs';

type ItemPage = components['schemas']['ItemPage'];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The AWS SDK warns once per process that its releases from 2027 need Node 22 (stack.md pins Node 20).
// Its own switch, read when a client is created; the services started below inherit it. The
// warning's type is the generic "Warning", which --disable-warning cannot single out.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const home = join(root, '.pixelmill');
const keepRunning = process.stdin.isTTY === true && !process.argv.includes('--exit');
const say = (line: string) => process.stdout.write(`${line}\n`);
/** How long a simulated provider batch job takes here (accelerated time). */
const ECONOMY_JOB_MS = 20_000;

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
async function shutdown(code: number): Promise<never> {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
  );
  for (const fn of cleanups.reverse()) await fn();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startService(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@pixelmill/source', '--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) say(`${name} exited with code ${code}`);
  });
  children.push(child);
  return child;
}

async function main(): Promise<void> {
  mkdirSync(home, { recursive: true });
  say('pixelmill demo: simulated provider, embedded S3 under .pixelmill/, local Redis\n');

  const redis = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  cleanups.push(() => redis.stop());
  say(`  redis      ${redis.url}${redis.started ? ' (started for this demo)' : ''}`);

  const bucket = 'pixelmill-demo';
  const s3 = await startLocalS3({ directory: join(home, 's3'), port: 0, bucket });
  cleanups.push(() => s3.close());
  say(`  s3         ${s3.endpoint} (bucket ${bucket}, files under .pixelmill/s3/)`);

  // Two simulated keys at 60 requests/min each, with realistic latency and a few faults.
  const sim = await startSim({
    seed: 7,
    latencyMs: { min: 300, max: 1500 },
    faults: { http5xx: 0.03 },
    limits: { 'demo-key-1': { rpm: 60, concurrency: 6 }, 'demo-key-2': { rpm: 60, concurrency: 6 } },
    batch: { completionMs: ECONOMY_JOB_MS },
  });
  cleanups.push(() => sim.close());
  say(`  provider   ${sim.url} (simulated Gemini API and Gemini Batch API)`);

  const configPath = join(home, 'pixelmill.yaml');
  writeFileSync(
    configPath,
    [
      'providers:',
      '  - name: gemini',
      '    kind: gemini',
      `    base_url: "${sim.url}"`,
      '    api_keys: [demo-key-1, demo-key-2]',
      '    models:',
      '      - id: gemini-3-pro-image',
      '        rpm: 60',
      '        concurrency: 6',
      '        timeout_s: 60',
      '',
    ].join('\n'),
  );

  const secret = generateWebhookSecret();
  const received: string[] = [];
  const receiver = createServer(async (req, res) => {
    try {
      const payload = await verifyNodeRequest<{ type: string }>(req, secret);
      received.push(payload.type);
      res.writeHead(204).end();
    } catch {
      res.writeHead(400).end();
    }
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => receiver.close(() => r())));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  const port = Number(process.env.PORT ?? (await freePort()));
  const apiKey = `sk_demo_${randomBytes(12).toString('base64url')}`;
  const env = {
    REDIS_URL: redis.url,
    PIXELMILL_QUEUE_PREFIX:
      process.env.PIXELMILL_QUEUE_PREFIX ?? `pixelmill-demo-${randomBytes(3).toString('hex')}`,
    PIXELMILL_CONFIG: configPath,
    PIXELMILL_API_KEYS: `demo:${apiKey}`,
    PIXELMILL_WEBHOOK_ALLOW_PRIVATE: 'true',
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: bucket,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: localS3Credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localS3Credentials.secretAccessKey,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WORKER_ECONOMY_POLL_MIN_MS: '1000',
    WORKER_ECONOMY_POLL_MAX_MS: '4000',
  };
  const api = `http://127.0.0.1:${port}`;
  startService('api', 'services/api/src/main.ts', env);
  startService('worker', 'services/worker/src/main.ts', env);
  await waitUntil('the API', async () => (await fetch(`${api}/readyz`)).ok);
  say(`  api        ${api}  (key: ${apiKey})\n`);

  const rows = parse(readFileSync(join(root, 'examples/catalog.csv')), {
    columns: true,
    trim: true,
  }) as Record<string, string>[];
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const qaDemoItems = [
    { custom_id: 'qa-demo-blank', prompt: 'Studio product photo of a desk lamp [blank]', size: '1K' },
    {
      custom_id: 'qa-demo-twin-1',
      prompt: 'Studio product photo of a mug, front [duplicate:mug]',
      size: '1K',
    },
    {
      custom_id: 'qa-demo-twin-2',
      prompt: 'Studio product photo of a mug, side [duplicate:mug]',
      size: '1K',
    },
  ];
  const flagged: string[] = [];
  const items = [
    ...rows.map((r) => ({
      custom_id: r.custom_id,
      prompt: `Studio product photo of a ${r.title} on ${r.background}, soft light, e-commerce catalog style`,
      size: r.size,
      aspect_ratio: r.aspect_ratio,
    })),
    // The simulator returns a blank frame and two near-identical images for these, so output QA
    // flags show (docs/api.md "Output QA").
    ...qaDemoItems,
  ];
  const submit = async (mode: 'realtime' | 'economy', extra: Record<string, unknown>) => {
    const res = await fetch(`${api}/v1/batches`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'gemini-3-pro-image', mode, items, ...extra }),
    });
    const submitted = (await res.json()) as { id: string; cost: { estimated_usd: number } };
    if (res.status !== 201) {
      throw new Error(`${mode} submission failed: ${res.status} ${JSON.stringify(submitted)}`);
    }
    return submitted;
  };
  const batch = await submit('realtime', {
    webhook: { url: hookUrl, secret },
    output: { prefix: 'demo/' },
    metadata: { source: 'examples/catalog.csv' },
  });
  say(
    `Submitted ${items.length} product shots as ${batch.id} (estimated cost $${batch.cost.estimated_usd.toFixed(3)})`,
  );
  // The same catalog in the economy lane, at the batch price, running beside it.
  const economy = await submit('economy', {
    output: { prefix: 'demo-economy/' },
    metadata: { source: 'examples/catalog.csv' },
  });
  say(
    `Submitted the same catalog in mode economy as ${economy.id} (estimated cost $${economy.cost.estimated_usd.toFixed(3)}; a simulated provider batch job takes ${ECONOMY_JOB_MS / 1000} s here instead of up to 24 h)`,
  );

  const bar = new SingleBar({
    format: '  {bar} {value}/{total} items | {succeeded} ok, {failed} failed | spent $ {spent} | {duration}s',
    hideCursor: true,
  });
  bar.start(rows.length + qaDemoItems.length, 0, { succeeded: 0, failed: 0, spent: '0.000' });
  let current: Batch;
  for (;;) {
    current = (await (await fetch(`${api}/v1/batches/${batch.id}`, { headers })).json()) as Batch;
    const ended = current.counts.succeeded + current.counts.failed + current.counts.cancelled;
    bar.update(ended, {
      succeeded: current.counts.succeeded,
      failed: current.counts.failed,
      spent: current.cost.actual_usd.toFixed(3),
    });
    if (current.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  bar.stop();

  const imagesDir = join(home, 'images', current.id);
  let saved = 0;
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page = (await (
      await fetch(`${api}/v1/batches/${batch.id}/items?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
        headers,
      })
    ).json()) as ItemPage;
    for (const item of page.data) {
      for (const out of item.outputs) {
        const flags = ((out.qa?.checks ?? []) as { name: string; passed: boolean }[])
          .filter((c) => !c.passed)
          .map((c) => c.name);
        if (flags.length > 0) flagged.push(`${item.custom_id}/${out.index}: ${flags.join(', ')}`);
        const file = join(imagesDir, item.custom_id, `${out.index}.png`);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, Buffer.from(await (await fetch(out.url!)).arrayBuffer()));
        saved += 1;
      }
    }
    cursor = page.next_cursor;
  }
  await waitUntil(
    'the batch.completed webhook',
    async () => received.includes('batch.completed'),
    30_000,
  ).catch(() => undefined);

  say(
    `\nDone: ${current.counts.succeeded} succeeded, ${current.counts.failed} failed, $${current.cost.actual_usd.toFixed(3)} spent`,
  );
  say(`  images     ${imagesDir}/  (${saved} files)`);
  say(`  QA flags   ${flagged.length > 0 ? flagged.join('; ') : 'none'}`);
  say(`  manifest   s3://${bucket}/${current.manifest_key}`);
  say(`             ${current.manifest_url}`);
  say(
    `  webhook    ${received.includes('batch.completed') ? 'batch.completed received and verified' : 'not received'}`,
  );
  say('\nWaiting for the economy batch (its provider batch jobs, polled with backoff)...');
  let economyBatch: Batch;
  for (;;) {
    economyBatch = (await (await fetch(`${api}/v1/batches/${economy.id}`, { headers })).json()) as Batch;
    if (economyBatch.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const bills = [
    { name: 'realtime', batch: current, lanes: await costByLane(api, headers, current.id) },
    { name: 'economy', batch: economyBatch, lanes: await costByLane(api, headers, economyBatch.id) },
  ];
  say(`\nThe same ${items.length} items, two bills:`);
  say(
    `  ${'mode'.padEnd(10)}${'estimate'.padStart(10)}${'actual'.padStart(10)}   per lane (actual)    makespan`,
  );
  for (const bill of bills) {
    const lanes = Object.entries(bill.lanes)
      .map(([lane, usd]) => `${lane} $${usd.toFixed(3)}`)
      .join(', ');
    const seconds = (Date.parse(bill.batch.completed_at ?? '') - Date.parse(bill.batch.created_at)) / 1000;
    say(
      `  ${bill.name.padEnd(10)}${`$${bill.batch.cost.estimated_usd.toFixed(3)}`.padStart(10)}${`$${bill.batch.cost.actual_usd.toFixed(3)}`.padStart(10)}   ${lanes.padEnd(21)}${seconds.toFixed(0)} s`,
    );
  }
  const ratio = (100 * economyBatch.cost.actual_usd) / Math.max(current.cost.actual_usd, 1e-9);
  say(`  economy costs ${ratio.toFixed(1)} % of realtime (makespans in accelerated time, not real hours)`);

  say(`\n  api        ${api}/v1/batches/${batch.id}  (Authorization: Bearer ${apiKey})`);
  say(`             ${api}/v1/models · ${api}/openapi.json · ${api}/docs`);
  say(`  console    ${api}/console  (sign in with the key above)`);
  if (keepRunning) {
    say('\nServices keep running so you can explore the API. Press Ctrl-C to stop.');
    return;
  }
  await shutdown(0);
}

/** A batch's actual cost per lane: the sum of its items' `cost_usd` by `lane`. */
async function costByLane(
  api: string,
  headers: Record<string, string>,
  batchId: string,
): Promise<Record<string, number>> {
  const lanes: Record<string, number> = {};
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page = (await (
      await fetch(`${api}/v1/batches/${batchId}/items?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
        headers,
      })
    ).json()) as ItemPage;
    for (const item of page.data) lanes[item.lane] = (lanes[item.lane] ?? 0) + (item.cost_usd ?? 0);
    cursor = page.next_cursor;
  }
  return lanes;
}

main().catch(async (err) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  await shutdown(1);
});
