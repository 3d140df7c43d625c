/**
 * Real Redis servers for the integration tests, through the project's scripts/redis/*.sh: the
 * machine's Redis (REDIS_URL, default 127.0.0.1:6379, never stopped), throw-away servers on free
 * ports for tests that stop and restart Redis, and a 3-master cluster (REDIS_CLUSTER_NODES, or
 * one started here). Also per-test key prefixes and their cleanup.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Cluster } from 'ioredis';
import { parseScriptOutput } from '../../../../scripts/script-output.ts';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../../../scripts/redis/', import.meta.url));

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test (or run) uses. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function script(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Record<string, string>> {
  const { stdout } = await run('bash', [`${SCRIPTS}${name}`, ...args], {
    env: { ...process.env, ...env },
    timeout: 120_000,
    maxBuffer: 1 << 20,
  });
  return parseScriptOutput(stdout);
}

/** A redis-server of our own on a free port; `stop` and `start` again keep its port and data dir. */
export interface OwnRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/**
 * Starts a throw-away redis-server. With `durable`, every write goes to an append-only file
 * (fsync always) so a stop/start keeps the data, as a production Redis would.
 */
export async function startOwnRedis(
  options: { durable?: boolean; password?: string; extraArgs?: string[] } = {},
): Promise<OwnRedis> {
  const args = [
    ...(options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : []),
    ...(options.extraArgs ?? []),
  ];
  const auth: Record<string, string> =
    options.password === undefined ? {} : { REDIS_PASSWORD: options.password };
  const first = await script('start-redis.sh', args, auth);
  const port = Number(first.REDIS_PORT);
  const runDir = first.REDIS_RUN_DIR as string;
  const env = { ...auth, REDIS_PORT: String(port), REDIS_RUN_DIR: runDir };
  // KEEP_RUN_DIR keeps the append-only file between stop and start.
  const stop = async () => {
    await script('stop-redis.sh', [String(port)], { ...env, KEEP_RUN_DIR: '1' });
  };
  return {
    url: first.REDIS_URL as string,
    port,
    stop,
    start: async () => {
      await script('start-redis.sh', args, env);
    },
    destroy: async () => {
      await script('stop-redis.sh', [String(port)], env);
      await run('rm', ['-rf', '--', runDir]);
    },
  };
}

/** A Redis Cluster: REDIS_CLUSTER_NODES when set, else 3 masters started here (and stopped by `release`). */
export interface TestCluster {
  nodes: string[];
  release(): Promise<void>;
}

export async function acquireCluster(): Promise<TestCluster> {
  const given = process.env.REDIS_CLUSTER_NODES;
  if (given) return { nodes: given.split(','), release: () => Promise.resolve() };
  const started = await script('start-redis-cluster.sh', []);
  const runDir = started.REDIS_CLUSTER_RUN_DIR as string;
  return {
    nodes: (started.REDIS_CLUSTER_NODES as string).split(','),
    release: async () => {
      await script('stop-redis-cluster.sh', [runDir]);
    },
  };
}

export function clusterClient(nodes: readonly string[]): Cluster {
  return new Cluster(
    nodes.map((node) => ({
      host: node.slice(0, node.lastIndexOf(':')),
      port: Number(node.slice(node.lastIndexOf(':') + 1)),
    })),
  );
}

/** Deletes every key of a prefix (on every master of a cluster). */
export async function deletePrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  let deleted = 0;
  for (const node of nodes) {
    for (const pattern of [`{${prefix}:*`, `{${prefix}}:*`]) {
      let cursor = '0';
      for (let round = 0; round < 100_000; round += 1) {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
        // One key per DEL: keys of different shards live in different slots.
        for (const key of keys) deleted += await node.del(key);
        cursor = next;
        if (cursor === '0') break;
      }
    }
  }
  return deleted;
}

/** deletePrefix on a standalone Redis, through a connection opened and closed for it. */
export async function deletePrefixAt(url: string, prefix: string): Promise<void> {
  const admin = new Redis(url);
  try {
    await deletePrefix(admin, prefix);
  } finally {
    await admin.quit();
  }
}

/** Counts the keys of a prefix (on every master of a cluster). */
export async function countPrefixKeys(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  let total = 0;
  for (const node of nodes) {
    for (const pattern of [`{${prefix}:*`, `{${prefix}}:*`]) {
      let cursor = '0';
      for (let round = 0; round < 100_000; round += 1) {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
        total += keys.length;
        cursor = next;
        if (cursor === '0') break;
      }
    }
  }
  return total;
}

/** A free loopback port (the OS picks it; nothing listens on it afterwards). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A Redis Sentinel (redis-server --sentinel) monitoring `masterPort` as `name`, until `stop`. */
export async function startSentinel(
  name: string,
  masterPort: number,
): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gk-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} 5000`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => 50,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => undefined);
  try {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const master = await probe.call('SENTINEL', 'get-master-addr-by-name', name).catch(() => null);
      if (Array.isArray(master)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    probe.disconnect();
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throw-away CA and a server certificate for 127.0.0.1 (openssl), for TLS tests. */
export async function makeTlsFiles(): Promise<{
  dir: string;
  ca: string;
  cert: string;
  key: string;
  remove(): void;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-tls-'));
  const at = (name: string) => join(dir, name);
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=gatekeeper test CA',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.crt'),
  ]);
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
  ]);
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl([
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    at('san.ext'),
    '-out',
    at('server.crt'),
  ]);
  return {
    dir,
    ca: at('ca.crt'),
    cert: at('server.crt'),
    key: at('server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
