/**
 * @module The deployment's Redis connections: one node (REDIS_URL) or a Redis Cluster
 * (REDIS_CLUSTER_NODES), made in one place so every process connects the same way.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

export interface ClusterNode {
  host: string;
  port: number;
}

export interface RedisTarget {
  /** redis[s]://[user:password@]host:port[/db]; with cluster nodes, only its user, password and TLS count. */
  url: string;
  /** Seed nodes of a Redis Cluster; the client discovers the others. */
  clusterNodes?: readonly ClusterNode[] | undefined;
}

/**
 * How long a cluster command keeps trying while a master is away (slots without an owner answer
 * CLUSTERDOWN, a failover moves them): 60 redirections 500 ms apart, about half a minute. Connections
 * that give up at once (the API's) fail fast anyway: their nodes have no offline queue.
 */
const CLUSTER_RETRY: Pick<
  ClusterOptions,
  'retryDelayOnClusterDown' | 'retryDelayOnTryAgain' | 'maxRedirections'
> = {
  retryDelayOnClusterDown: 500,
  retryDelayOnTryAgain: 500,
  maxRedirections: 60,
};

/** The parts of REDIS_URL every cluster node is reached with (user, password, TLS). */
function nodeOptions(url: string): RedisOptions {
  const u = new URL(url);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

function clusterOptions(url: string, options: RedisOptions): ClusterOptions {
  return {
    ...CLUSTER_RETRY,
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    ...(options.enableAutoPipelining !== undefined
      ? { enableAutoPipelining: options.enableAutoPipelining }
      : {}),
    redisOptions: { ...nodeOptions(url), ...options },
  };
}

/**
 * A connection to the target. A Cluster is returned typed as Redis: it takes the same commands for
 * keys of one slot (every script and transaction here keeps to one, see docs/design.md "Redis
 * Cluster"); what differs per node goes through masterNodes(), and duplicates through
 * duplicateConnection().
 */
export function connectRedis(target: RedisTarget, options: RedisOptions = {}): Redis {
  if (target.clusterNodes === undefined || target.clusterNodes.length === 0)
    return new Redis(target.url, options);
  const cluster = new Cluster(
    target.clusterNodes.map((n) => ({ host: n.host, port: n.port })),
    clusterOptions(target.url, options),
  );
  return cluster as unknown as Redis;
}

/** Resolves once the connection takes commands (a cluster: once it knows its slots and masters). */
export async function untilReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
}

export function isCluster(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

/** A second connection to the same Redis or cluster, with these options on top of the original's. */
export function duplicateConnection(redis: Redis, options: RedisOptions = {}): Redis {
  if (!isCluster(redis)) return redis.duplicate(options);
  const cluster = redis as unknown as Cluster;
  return cluster.duplicate(undefined, {
    ...(options.enableAutoPipelining !== undefined
      ? { enableAutoPipelining: options.enableAutoPipelining }
      : {}),
    redisOptions: { ...cluster.options.redisOptions, ...options },
  }) as unknown as Redis;
}

/**
 * Every master a command about the whole keyspace must visit (SCAN, CONFIG GET): the node itself,
 * or each master of a cluster as this client knows them now.
 */
export function masterNodes(redis: Redis): Redis[] {
  return isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
}
