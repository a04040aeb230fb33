import { spawnSync } from 'node:child_process';

/** What to install when promtool is missing (the README's test command provisions it). */
const PROMTOOL_MISSING =
  'promtool not found: install it (Debian/Ubuntu: apt-get install prometheus; macOS: brew install prometheus)';

/** Runs promtool with the arguments; throws with its output when it fails or is not installed. */
export function promtool(args: string[], cwd: string): string {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (run.error) throw new Error(`${PROMTOOL_MISSING} (${run.error.message})`);
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}
