#!/usr/bin/env node
// `pnpm chaos:report`: runs the chaos suite (test/chaos, real processes) with the 30 s S3 outage and
// prints the reliability table of docs/reliability.md from the rows the tests recorded, so no figure
// in that table is written by hand. Exits with the suite's status.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pixelmill-chaos-report-'));
const file = join(dir, 'rows.jsonl');
const started = new Date();
const run = spawnSync('pnpm', ['exec', 'vitest', 'run', 'chaos/'], {
  cwd: join(root, 'test'),
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    CHAOS_REPORT_FILE: file,
    CHAOS_S3_OUTAGE_MS: process.env.CHAOS_S3_OUTAGE_MS ?? '30000',
  },
});
const rows = existsSync(file)
  ? readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
rmSync(dir, { recursive: true, force: true });

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const lines = [
  `Run with \`pnpm chaos:report\` on ${started.toISOString().slice(0, 10)} (Node ${process.version}, ${rows.length} rows; suite ${run.status === 0 ? 'passed' : 'FAILED'}).`,
  '',
  '| fault | how it was injected | items submitted | items ended | duplicates | lost | double generations | provider successes | time | notes |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.fault} | ${r.injection} | ${r.submitted} | ${r.ended} | ${r.duplicates} | ${r.lost} | ${r.doubleGenerations} | ${r.providerSuccesses} | ${s(r.recoverMs)} | ${r.note ?? ''} |`,
  ),
];
process.stdout.write(`\n${lines.join('\n')}\n`);
process.exit(run.status ?? 1);
