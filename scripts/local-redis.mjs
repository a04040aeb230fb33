// Finds a Redis answering at a URL, or starts a private `redis-server` (no persistence, bound to
// 127.0.0.1, on a free port). Shared by `pnpm test` (with-redis.mjs) and `pnpm demo`.
import { spawn, spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

export function redisAnswers(host, port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port }, () => socket.write('PING\r\n'));
    socket.setTimeout(1000);
    socket.on('data', (d) => {
      const text = d.toString();
      resolve(text.startsWith('+PONG') || text.includes('NOAUTH'));
      socket.destroy();
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      resolve(false);
      socket.destroy();
    });
  });
}

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Resolves `{ url, stop }`: the Redis at `wanted` when it answers, else a redis-server started here.
 * Throws with install instructions when neither is possible.
 */
export async function ensureRedis(wanted = 'redis://127.0.0.1:6379') {
  const url = new URL(wanted);
  if (await redisAnswers(url.hostname, Number(url.port || 6379)))
    return { url: wanted, started: false, stop() {} };
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error(
      `No Redis answers at ${wanted} and redis-server is not installed.\n` +
        'Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL.',
    );
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers('127.0.0.1', port))) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('redis-server did not start within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `redis://127.0.0.1:${port}`, started: true, stop: () => child.kill('SIGTERM') };
}
