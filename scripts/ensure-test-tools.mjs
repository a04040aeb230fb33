#!/usr/bin/env node
// Makes sure the tools the test suite runs are installed: redis-server (when no Redis answers at
// REDIS_URL, with-redis.mjs starts one; the Redis Cluster tests always start their own nodes), redis-cli
// (joins those nodes into a cluster), Chromium (the console's browser tests, at CHROMIUM_PATH or
// /usr/bin/chromium) and promtool (infra's rule tests). What is missing is installed from Debian's
// packages when we are root with apt-get; otherwise one line says what to install, and the run fails.
// Debian's prometheus package ships a server too: it is kept from starting and left disabled (it must
// not take port 9090 from anything). Used by `pnpm test`, so .ci/run is just the README's command.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

const ok = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const run = (cmd, args) => spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const tools = [
  {
    name: 'redis-server',
    // The binary even when a Redis answers at REDIS_URL: the Redis Cluster tests start their own nodes.
    present: async () => ok('redis-server', ['--version']),
    debian: 'redis-server',
    hint: 'apt-get install redis-server; macOS: brew install redis',
  },
  {
    // The Redis Cluster tests (test/e2e/cluster.test.ts) start redis-server nodes and join them.
    name: 'redis-cli',
    present: async () => ok('redis-cli', ['--version']),
    debian: 'redis-tools',
    hint: 'apt-get install redis-tools; macOS: brew install redis',
  },
  {
    name: 'Chromium',
    present: async () => existsSync(chromiumPath),
    debian: 'chromium',
    hint: 'apt-get install chromium, or set CHROMIUM_PATH to a Chromium or Chrome binary',
  },
  {
    name: 'promtool',
    present: async () => ok('promtool', ['--version']),
    debian: 'prometheus',
    hint: 'apt-get install prometheus; macOS: brew install prometheus',
  },
];

/** Installs Debian packages with every service start forbidden (policy-rc.d answering 101). */
function aptInstall(packages) {
  console.log(`ensure-test-tools: installing ${packages.join(', ')} from Debian's packages`);
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const apt = (args) =>
      spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
    if (!apt(['update', '-qq'])) return;
    apt(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  if (packages.includes('prometheus')) {
    // The package enables its server for the next boot: undo that, and stop it should it run anyway.
    if (existsSync('/run/systemd/system')) {
      run('systemctl', ['stop', 'prometheus']);
      run('systemctl', ['disable', 'prometheus']);
    }
    rmSync('/etc/systemd/system/multi-user.target.wants/prometheus.service', { force: true });
    if (existsSync('/usr/sbin/update-rc.d')) run('update-rc.d', ['prometheus', 'disable']);
  }
}

const missing = [];
for (const tool of tools) if (!(await tool.present())) missing.push(tool);
if (missing.length > 0 && process.getuid?.() === 0 && ok('apt-get', ['--version'])) {
  aptInstall(missing.map((t) => t.debian));
}
let failed = false;
for (const tool of missing) {
  if (await tool.present()) continue;
  console.error(`${tool.name} not found: install it (${tool.hint})`);
  failed = true;
}
if (failed) process.exit(1);
