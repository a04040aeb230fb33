// Standalone simulator: `pnpm sim` (configured through SIM_* variables, see env.ts).
import { optionsFromEnv } from './env.js';
import { startSim } from './server.js';

const sim = await startSim(optionsFromEnv(process.env));
console.log(`provider-sim listening on ${sim.url}`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('provider-sim: close failed', err);
        process.exit(1);
      },
    );
  });
}
