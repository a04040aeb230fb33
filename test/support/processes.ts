import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Service {
  name: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Starts a service from its TypeScript source the way `pnpm start:*` does, but as a direct child of
 * node (no wrapper process), so a signal reaches the service itself.
 */
export function startService(name: string, entry: string, env: Record<string, string>): Service {
  // PIXELMILL_SERVICE_NODE_ARGS: extra node flags for the services (e.g. `--cpu-prof --cpu-prof-dir=…`
  // when profiling a benchmark; NODE_OPTIONS refuses those).
  const extra = (process.env.PIXELMILL_SERVICE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(
    process.execPath,
    [...extra, '--conditions=@pixelmill/source', '--import', 'tsx', entry],
    {
      cwd: repoRoot,
      // The AWS SDK warns once per process that its releases from 2027 need Node 22 (stack.md pins
      // Node 20); its own switch, as the warning's type is the generic "Warning" --disable-warning cannot pick.
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, output: () => out, exited };
}

export async function stopService(
  service: Service,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return service.child.exitCode;
  service.child.kill(signal);
  return service.exited;
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 60_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The service's log lines at error level or above (pino's JSON `level` ≥ 50): a healthy run has none. */
export function errorLines(service: Service): string[] {
  return service
    .output()
    .split('\n')
    .filter((line) => {
      if (!line.startsWith('{')) return false;
      try {
        return (JSON.parse(line) as { level?: number }).level! >= 50;
      } catch {
        return false;
      }
    });
}

/** Waits until the API service answers /readyz (an API that exited is reported with its output). */
export async function waitForApiReady(api: Service, apiUrl: string, timeoutMs: number): Promise<void> {
  await waitFor(
    'the API to become ready',
    async () => {
      if (api.child.exitCode !== null) throw new Error(`api exited: ${api.output()}`);
      return (await fetch(`${apiUrl}/readyz`)).ok ? true : undefined;
    },
    { timeoutMs },
  );
}

/** Waits until a worker service logged "worker started" (an info line; one that exited is reported). */
export async function waitForWorkerStarted(worker: Service, timeoutMs: number): Promise<void> {
  await waitFor(
    'a worker to start',
    () => {
      if (worker.child.exitCode !== null) throw new Error(`worker exited: ${worker.output()}`);
      return worker.output().includes('worker started') ? true : undefined;
    },
    { timeoutMs },
  );
}
