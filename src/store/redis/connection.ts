/**
 * Builds the ioredis client the store talks through, with retry settings chosen so a Redis restart
 * or failover never leaves the process permanently dead, and maps client errors to
 * StoreUnavailableError.
 *
 * The settings, and why (standalone and Sentinel; the node connections of a Cluster get the same):
 * - retryStrategy never gives up (25 ms doubling to 1 s): a process outlives any Redis outage.
 *   ioredis ends the connection for good when the strategy returns a non-number, which is how
 *   workers elsewhere died permanently after a Redis restart.
 * - maxRetriesPerRequest 0: at every lost connection and every failed reconnect attempt, ioredis
 *   fails the commands waiting for it. The current decision fails (StoreUnavailableError, nothing
 *   half-written since every commit is one script) instead of hanging; the caller retries.
 * - autoResendUnfulfilledCommands false: a commit whose reply was lost with the connection is not
 *   silently replayed; its outcome is unknown and the caller hears so. (Replaying would be safe —
 *   the version fence answers "conflict" — but would report the event as a duplicate.)
 * - enableOfflineQueue true: commands issued while (re)connecting wait for at most one connect
 *   attempt, so start-up and a brief blip cost a delay, not an error.
 * - reconnectOnError READONLY → reconnect: after a failover the old master became a replica; the
 *   next connection finds the new one.
 * - enableAutoPipelining false: the store batches on its own (one script call per shard and turn
 *   for commits and for loads, commit-batcher.ts), so ioredis' queue-until-next-tick pipeline adds
 *   only work: its Pipeline objects and per-command bookkeeping cost ~9 µs of Node CPU per decision
 *   and 30 % of the throughput on the Redis benchmark (docs/redis-store.md, "Performance").
 * - keepAlive 30 s, connectTimeout 5 s; a per-operation deadline in the store covers the rest.
 * - disconnectTimeout 500 ms: a closed connection to a hung server (SIGSTOP, a dead network) is
 *   destroyed then, instead of keeping the process alive for seconds after close().
 * A Cluster client additionally keeps ioredis' failover handling (MOVED/ASK/TRYAGAIN, and re-sending
 * after a node connection closed: the version fence makes that re-send safe) and a
 * clusterRetryStrategy that never gives up.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions, type SentinelAddress } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import {
  GatekeeperError,
  InvalidConfigError,
  messageOf,
  StoreRefusedError,
  StoreUnavailableError,
} from '../../core/errors.ts';
import { parseRedisUrl } from './redis-url.ts';
import type { RedisClient } from './scripts.ts';

export { redactUrl } from './redis-url.ts';

/** How to reach Redis. Give `redis` (a client you own), `url`, `cluster` or `sentinels`. */
export interface RedisConnectionOptions {
  /** A client you created and close yourself; the store only defines its scripts on it. */
  redis?: RedisClient;
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. Default redis://127.0.0.1:6379. */
  url?: string;
  /** Redis Cluster seed nodes (`"host:port"` or `{ host, port }`), with optional extra ClusterOptions. */
  cluster?: { nodes: readonly (string | { host: string; port: number })[]; options?: ClusterOptions };
  /** Redis Sentinel addresses; `name` is the monitored master's name. */
  sentinels?: readonly SentinelAddress[];
  /** The Sentinel master group name (ioredis `name`). */
  name?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  /** ACL user and password (AUTH). */
  username?: string;
  password?: string;
  /** TLS: true for defaults, or node:tls options (CA, client certificate, servername …). */
  tls?: boolean | ConnectionOptions;
  db?: number;
  /** Shown by CLIENT LIST. Default "gatekeeper". */
  connectionName?: string;
  /** Extra ioredis options, applied over the store's settings (change them knowingly). */
  redisOptions?: RedisOptions;
  /** Told about every connection error ioredis reports (they also surface as StoreUnavailableError). */
  onConnectionError?: (error: Error) => void;
}

/** The retry delay before reconnect attempt `attempt` (1, 2, …): 25 ms doubling, capped at 1 s. Never gives up. */
export function reconnectDelay(attempt: number): number {
  return Math.min(1_000, 25 * 2 ** Math.min(Math.max(attempt - 1, 0), 6));
}

/** The ioredis options the store uses for every connection it opens (exported for clients you build yourself). */
export const RECOMMENDED_REDIS_OPTIONS = {
  retryStrategy: reconnectDelay,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  enableOfflineQueue: true,
  enableAutoPipelining: false,
  reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
  keepAlive: 30_000,
  connectTimeout: 5_000,
  disconnectTimeout: 500,
} as const satisfies RedisOptions;

/** A client plus whether the store owns it (and must close it). */
export interface OpenedClient {
  client: RedisClient;
  owned: boolean;
  isCluster: boolean;
  /** Where it connects, for messages (no password). */
  where: string;
  /** The last connection error ioredis reported on a client the store owns, for messages. */
  lastError(): Error | undefined;
  /** A configuration error only the server could reveal (a db index out of its range). */
  configError(): GatekeeperError | undefined;
}

export function openClient(options: RedisConnectionOptions): OpenedClient {
  const given = [options.redis, options.url, options.cluster, options.sentinels].filter(
    (value) => value !== undefined,
  );
  if (given.length > 1) {
    throw new InvalidConfigError('redis store: give only one of `redis`, `url`, `cluster` and `sentinels`');
  }
  if (options.redis) {
    return {
      client: options.redis,
      owned: false,
      isCluster: options.redis instanceof Cluster,
      where: 'the given client',
      lastError: () => undefined,
      configError: () => undefined,
    };
  }

  const common: RedisOptions = {
    ...RECOMMENDED_REDIS_OPTIONS,
    connectionName: options.connectionName ?? 'gatekeeper',
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.db === undefined ? {} : { db: options.db }),
    ...tlsOption(options.tls),
  };

  let client: RedisClient;
  let where: string;
  if (options.cluster) {
    const nodes = options.cluster.nodes.map(parseNode);
    if (nodes.length === 0) throw new InvalidConfigError('redis store: cluster.nodes is empty');
    where = `Redis Cluster ${nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
    const {
      retryStrategy: _retry,
      enableOfflineQueue: _offline,
      enableAutoPipelining: _auto,
      ...nodeOptions
    } = common;
    client = new Cluster(nodes, {
      clusterRetryStrategy: reconnectDelay,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      scaleReads: 'master',
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      maxRedirections: 16,
      ...options.cluster.options,
      redisOptions: { ...nodeOptions, ...options.redisOptions, ...options.cluster.options?.redisOptions },
    });
  } else if (options.sentinels) {
    if (!options.name)
      throw new InvalidConfigError(
        'redis store: `name` (the Sentinel master name) is required with `sentinels`',
      );
    where = `Sentinel master "${options.name}"`;
    client = new Redis({
      ...common,
      sentinels: [...options.sentinels],
      name: options.name,
      ...(options.sentinelUsername === undefined ? {} : { sentinelUsername: options.sentinelUsername }),
      ...(options.sentinelPassword === undefined ? {} : { sentinelPassword: options.sentinelPassword }),
      ...options.redisOptions,
    });
  } else {
    const url = options.url ?? 'redis://127.0.0.1:6379';
    // Checked field by field before connecting (ioredis would read /abc as db 0).
    const parsed = parseRedisUrl(url);
    where = `${parsed.tls ? 'rediss' : 'redis'}://${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}:${parsed.port}${parsed.db === 0 ? '' : `/${parsed.db}`}`;
    client = new Redis({
      ...common,
      host: parsed.host,
      port: parsed.port,
      ...(parsed.db === 0 || options.db !== undefined ? {} : { db: parsed.db }),
      ...(parsed.username === undefined || options.username !== undefined
        ? {}
        : { username: parsed.username }),
      ...(parsed.password === undefined || options.password !== undefined
        ? {}
        : { password: parsed.password }),
      ...(parsed.tls && options.tls === undefined ? { tls: {} } : {}),
      ...options.redisOptions,
    });
  }
  // Without a listener ioredis prints every reconnect error; they reach callers as StoreUnavailableError.
  let last: Error | undefined;
  let fatal: GatekeeperError | undefined;
  client.on('error', (error: Error) => {
    last = error;
    // ioredis reports a failed SELECT on connect as an error event and then carries on in db 0:
    // remembered here so the store refuses every operation instead of writing to the wrong db.
    if (/DB index is out of range/i.test(error.message))
      fatal ??= new InvalidConfigError(
        `redis store: the db index is out of range on ${where} (${error.message}); ` +
          "use an index below the server's `databases` setting (16 unless configured)",
        error,
      );
    options.onConnectionError?.(error);
  });
  client.on('ready', () => {
    last = undefined;
  });
  return {
    client,
    owned: true,
    isCluster: options.cluster !== undefined,
    where,
    lastError: () => last,
    configError: () => fatal,
  };
}

function tlsOption(tls: RedisConnectionOptions['tls']): Pick<RedisOptions, 'tls'> {
  if (tls === undefined || tls === false) return {};
  return { tls: tls === true ? {} : tls };
}

function parseNode(node: string | { host: string; port: number }): { host: string; port: number } {
  if (typeof node !== 'string') return { host: node.host, port: node.port };
  const text = node.replace(/^rediss?:\/\//, '');
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new InvalidConfigError(`redis store: cluster node ${JSON.stringify(node)} is not host:port`);
  }
  return { host: text.slice(0, colon), port };
}

/**
 * Error replies with which Redis refuses a command, or a script at its first write (a script that
 * wrote once is let finish, to stay atomic), so nothing was written.
 */
const REFUSED_BEFORE_WRITING =
  /^(OOM|READONLY|NOPERM|LOADING|BUSY|CLUSTERDOWN|MASTERDOWN|MISCONF|NOAUTH|WRONGPASS)\b/;

/** ioredis' messages for a command failed because the connection was lost or not up. */
const LOST_CONNECTION =
  /max retries per request|Connection is closed|Stream isn't writeable|connection (?:was )?lost/i;

/**
 * Any failure talking to Redis (refused or lost connection, timeout, an error reply such as OOM,
 * LOADING or CLUSTERDOWN) becomes StoreUnavailableError, with the ioredis error as `cause`.
 * The store's own typed errors pass through.
 */
export function toStoreError(
  error: unknown,
  operation: string,
  connection?: Pick<OpenedClient, 'where' | 'lastError'>,
): GatekeeperError {
  if (error instanceof GatekeeperError) return error;
  const message = messageOf(error);
  const last = connection?.lastError();
  // ioredis words a command failed by a lost connection after its settings, not the cause.
  if (connection && LOST_CONNECTION.test(message)) {
    const cause = last ? last.message : 'the connection closed';
    return new StoreUnavailableError(
      `redis store: connection to ${connection.where} lost during ${operation}: ${cause}`,
      error,
    );
  }
  const why = last && last.message !== message ? ` (last connection error: ${last.message})` : '';
  const where = connection ? ` on ${connection.where}` : '';
  const text = `redis store: ${operation}${where} failed: ${message}${why}`;
  return REFUSED_BEFORE_WRITING.test(message)
    ? new StoreRefusedError(text, error)
    : new StoreUnavailableError(text, error);
}
