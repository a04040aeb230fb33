/**
 * @module A real 3-master Redis Cluster for one test file: redis-server processes with
 * `--cluster-enabled yes` on free ports in a temporary folder, joined by `redis-cli --cluster create`,
 * ready once every node reports `cluster_state:ok`. Each master can be killed and started again on
 * its port with its nodes.conf, as after a crash.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './processes.js';

export interface ClusterNodeProcess {
  port: number;
  dir: string;
  child: ChildProcess;
}

export interface RedisClusterOptions {
  /** AOF with fsync on every write, so a killed master comes back with every write it acknowledged. */
  durable?: boolean;
  /** How long the whole start may take (default 30 s). */
  startTimeoutMs?: number;
}

export interface TestRedisCluster {
  nodes: ClusterNodeProcess[];
  /** The master that serves `key`'s slot. */
  masterOf(key: string): Promise<ClusterNodeProcess>;
  /** SIGKILLs the master on `port` and waits for it to exit. */
  kill(node: ClusterNodeProcess): Promise<void>;
  /** Starts it again on its port, with its nodes.conf and AOF, and waits for `cluster_state:ok`. */
  restart(node: ClusterNodeProcess): Promise<void>;
  stop(): Promise<void>;
}

/** Binds and releases the port: true when nothing listens on it now. */
async function portFree(port: number): Promise<boolean> {
  const srv = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (bound) await new Promise((resolve) => srv.close(resolve));
  return bound;
}

/**
 * A port for a cluster node: it and its cluster bus port (port + 10000, which must stay below 65536,
 * so not the kernel's ephemeral range above 55535) are both free now.
 */
async function clusterPort(taken: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.includes(port) || taken.includes(port + 10_000) || taken.includes(port - 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

function serverArgs(port: number, durable: boolean): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    '5000',
    '--save',
    '',
    '--appendonly',
    durable ? 'yes' : 'no',
    ...(durable ? ['--appendfsync', 'always'] : []),
    '--maxmemory-policy',
    'noeviction',
  ];
}

function startNode(port: number, dir: string, durable: boolean): ChildProcess {
  // The node's files (nodes.conf, AOF) live in its own folder, its working directory.
  const child = spawn('redis-server', serverArgs(port, durable), {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

async function clusterInfo(port: number): Promise<string> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return String(await client.call('CLUSTER', 'INFO'));
  } finally {
    client.disconnect();
  }
}

async function untilClusterOk(ports: number[], timeoutMs: number): Promise<void> {
  await waitFor(
    'cluster_state:ok on every node',
    async () => {
      for (const port of ports) if (!(await clusterInfo(port)).includes('cluster_state:ok')) return undefined;
      return true;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** Starts the cluster; call `stop()` in afterAll. */
export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const durable = opts.durable ?? false;
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const root = mkdtempSync(join(tmpdir(), 'pixelmill-cluster-'));
  const nodes: ClusterNodeProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await clusterPort(nodes.map((n) => n.port));
    const dir = join(root, String(port));
    mkdirSync(dir);
    nodes.push({ port, dir, child: startNode(port, dir, durable) });
  }
  const stop = async () => {
    await Promise.all(nodes.map((n) => killNode(n)));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'the cluster nodes to answer',
      async () => {
        for (const n of nodes) await clusterInfo(n.port);
        return true;
      },
      { timeoutMs, intervalMs: 100 },
    );
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: timeoutMs },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await untilClusterOk(
      nodes.map((n) => n.port),
      timeoutMs,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodes,
    async masterOf(key) {
      const client = new Redis({ port: nodes[0]!.port, host: '127.0.0.1' });
      try {
        const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
        const ranges = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
        const owner = ranges.find(([from, to]) => slot >= from && slot <= to);
        const node = nodes.find((n) => n.port === Number(owner?.[2][1]));
        if (node === undefined) throw new Error(`no master serves slot ${slot}`);
        return node;
      } finally {
        client.disconnect();
      }
    },
    kill: (node) => killNode(node, 'SIGKILL'),
    async restart(node) {
      node.child = startNode(node.port, node.dir, durable);
      await untilClusterOk(
        nodes.map((n) => n.port),
        timeoutMs,
      );
    },
    stop,
  };
}

async function killNode(node: ClusterNodeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const { child } = node;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}
