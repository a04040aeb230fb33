/**
 * `pnpm bench:ratelimit [mode]`: one command per mode, each printing its figures and targets.
 *   (none)            compressed mode (issue 5): three contenders, the window compressed to 6 s
 *   --window 60000    real time (issue 14): pixelmill alone, 2 keys x 60 rpm, a real 60 s window
 *   --keypool         one revoked key per provider (issue 14)
 *   --misdeclared     declared 60 rpm, the provider allows 40 (issue 14)
 * Options of the issue-14 modes: --items N, --window MS (for --misdeclared, default 60000).
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    window: { type: 'string' },
    items: { type: 'string' },
    keypool: { type: 'boolean', default: false },
    misdeclared: { type: 'boolean', default: false },
  },
});
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

if (values.keypool) {
  const { runKeyPool } = await import('./keypool.js');
  await runKeyPool();
} else if (values.misdeclared) {
  const { runMisdeclared } = await import('./misdeclared.js');
  await runMisdeclared({ windowMs: num(values.window), items: num(values.items) });
} else if (values.window !== undefined) {
  const { runRealTime } = await import('./realtime.js');
  await runRealTime({ windowMs: Number(values.window), items: num(values.items) });
} else {
  await import('./compressed.js');
}
