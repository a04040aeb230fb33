#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// Makes sure `promtool` (Prometheus's rule checker; infra's tests run it) is on PATH. When it is
// missing and we are root with apt-get, installs Debian's `prometheus` package for it and leaves the
// Prometheus server it ships stopped and disabled (it must not take port 9090 from anything).
// Otherwise prints what to install and fails. Used by `pnpm test` and .ci/run.
import { existsSync, rmSync, writeFileSync } from 'node:fs';

const MISSING =
  'promtool not found: install it (Debian/Ubuntu: apt-get install prometheus; macOS: brew install prometheus)';
const ok = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const run = (cmd, args) => spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;

function installFromDebian() {
  console.log("ensure-promtool: installing Debian's prometheus package for promtool (its server stays off)");
  // policy-rc.d answering 101 forbids maintainer scripts to start services (invoke-rc.d and
  // deb-systemd-invoke honour it); one already there is left as it is.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const apt = (args) =>
      spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
    if (!apt(['update', '-qq'])) return;
    apt(['install', '-y', '-qq', '--no-install-recommends', 'prometheus']);
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  // The package enables its service for the next boot: undo that (systemd's wants link, sysvinit's
  // rc links), and stop it should it run anyway.
  if (existsSync('/run/systemd/system')) {
    run('systemctl', ['stop', 'prometheus']);
    run('systemctl', ['disable', 'prometheus']);
  }
  rmSync('/etc/systemd/system/multi-user.target.wants/prometheus.service', { force: true });
  if (existsSync('/usr/sbin/update-rc.d')) run('update-rc.d', ['prometheus', 'disable']);
}

if (!ok('promtool', ['--version'])) {
  if (process.getuid?.() === 0 && ok('apt-get', ['--version'])) installFromDebian();
  if (!ok('promtool', ['--version'])) {
    console.error(MISSING);
    process.exit(1);
  }
}
