/**
 * Opens the store the flags ask for: the embedded memory store by default, Redis with --redis or
 * --redis-cluster. The Redis adapter is imported only then, so the embedded path never loads ioredis.
 */
import { readFileSync } from 'node:fs';
import { InvalidConfigError, messageOf } from '../core/errors.ts';
import type { EntityStore } from '../store/entity-store.ts';
import { memoryStore } from '../store/memory-store.ts';
import { booleanFlag, intFlag, stringFlag, type FlagValues } from './command.ts';
import { UsageError } from './usage-error.ts';

/** Flags every store-using command accepts. */
export const storeOptions = {
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  'redis-prefix': { type: 'string' },
  'redis-password-file': { type: 'string' },
  'redis-allow-eviction': { type: 'boolean' },
  'redis-timeout': { type: 'string' },
} as const;

/** The store options' lines for a command's usage text. */
export const STORE_USAGE = `  --redis <url>          the Redis store: redis://[user:password@]host:port[/db], rediss:// for TLS
  --redis-cluster <list> the Redis store on a Redis Cluster: host:port[,host:port...]
  --redis-prefix <p>     key prefix of the Redis store (default gk, as \`gatekeeper run\` uses)
  --redis env:<NAME>     read the URL from environment variable NAME (e.g. env:REDIS_URL), off the process list
  --redis-password-file <path>  the Redis password (or ACL user's) from a file, never on the command line
  --redis-timeout <ms>   deadline of one Redis operation (default 10000): a hung Redis fails within it
  --redis-allow-eviction run although Redis may evict keys (managed services hiding maxmemory-policy):
                         loudly warned; without it a policy other than noeviction is refused`;

/** How a command uses the store. */
export interface StoreUse {
  /** The command only reads: the namespace is not claimed and writes are refused (works on replicas). */
  readOnly?: boolean;
  /** Where warnings go (an evicting Redis allowed by --redis-allow-eviction). */
  warn: (message: string) => void;
  env: NodeJS.ProcessEnv;
}

/**
 * Opens the store and, for Redis, waits until it answered, so a wrong URL fails here with the
 * reason instead of on the first event. The caller closes it (gatekeeper.close() does).
 */
export async function openStore(
  flags: FlagValues,
  use: StoreUse = { warn: (message) => process.stderr.write(`${message}\n`), env: process.env },
): Promise<EntityStore> {
  const given = stringFlag(flags, 'redis');
  const cluster = stringFlag(flags, 'redis-cluster');
  const prefix = stringFlag(flags, 'redis-prefix');
  const passwordFile = stringFlag(flags, 'redis-password-file');
  if (given !== undefined && cluster !== undefined)
    throw new UsageError('give --redis or --redis-cluster, not both');
  if (given === undefined && cluster === undefined) {
    for (const flag of ['redis-prefix', 'redis-password-file', 'redis-allow-eviction', 'redis-timeout'])
      if (flags[flag] !== undefined) throw new UsageError(`--${flag} needs --redis or --redis-cluster`);
    return memoryStore();
  }
  const url = given === undefined ? undefined : urlFrom(given, use.env);
  const password = passwordFile === undefined ? undefined : readPassword(passwordFile);
  const { redisStore } = await import('../store/redis/index.ts');
  const store = redisStore({
    ...(url === undefined
      ? { cluster: { nodes: (cluster as string).split(',').filter((node) => node !== '') } }
      : { url }),
    ...(prefix === undefined ? {} : { prefix }),
    ...(password === undefined ? {} : { password }),
    ...(flags['redis-timeout'] === undefined
      ? {}
      : { operationTimeoutMs: intFlag(flags, 'redis-timeout', 10_000) }),
    readOnly: use.readOnly ?? false,
    allowEvictingRedis: booleanFlag(flags, 'redis-allow-eviction'),
    onWarning: use.warn,
    // Whatever shard count and sharding the namespace was made with (gatekeeper run on Kafka: one
    // shard per input partition).
    recordedLayout: true,
  });
  try {
    await store.ready();
  } catch (error) {
    // The client reconnects forever; a CLI that could not use it must not stay alive because of it.
    await store.close();
    throw error;
  }
  return store;
}

/** `--redis env:NAME` reads the URL (and its password) from the environment, off the process list. */
function urlFrom(flag: string, env: NodeJS.ProcessEnv): string {
  if (!flag.startsWith('env:')) return flag;
  const name = flag.slice(4);
  const value = env[name];
  if (name === '' || value === undefined || value === '')
    throw new UsageError(`--redis ${flag}: the environment variable ${name || '(no name)'} is not set`);
  return value;
}

/** The password file's content without its final line break (how `echo secret > file` writes it). */
function readPassword(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidConfigError(`--redis-password-file: cannot read ${path}: ${messageOf(error)}`, error);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new InvalidConfigError(`--redis-password-file: ${path} is empty`);
  return password;
}
