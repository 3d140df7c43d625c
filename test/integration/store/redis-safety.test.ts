/**
 * A Redis that could lose the store's data, or is configured or reached wrongly, gets a clear
 * answer at once: an evicting maxmemory-policy is refused (unless allowed, loudly), lost data is
 * reported instead of taken for new entities, a db index out of range never writes to db 0, a
 * lost connection and a hung server are named, and a password is never printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { InvalidConfigError, StoreUnavailableError } from '../../../src/core/errors.ts';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { EvictingRedisError, StoreResetError } from '../../../src/store/redis/namespace.ts';
import { captureIO, runCli } from '../../support/cli-io.ts';
import { sequenced } from '../../support/events.ts';
import { startOwnRedis, type OwnRedis } from './support/redis-servers.ts';

const order = sequenced('order', 'o1');

describe('an evicting Redis', () => {
  let own: OwnRedis;
  let admin: Redis;
  beforeAll(async () => {
    own = await startOwnRedis({ extraArgs: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
    admin = new Redis(own.url);
  });
  afterAll(async () => {
    await admin.quit();
    await own.destroy();
  });

  it('is refused at start by a writing store, naming the policy and the fix, and nothing is written', async () => {
    const store = redisStore({ url: own.url, prefix: 'evict' });
    const failure = await store.ready().catch((error: unknown) => error);
    await store.close();
    expect(failure).toBeInstanceOf(EvictingRedisError);
    expect((failure as Error).message).toContain('maxmemory-policy allkeys-lru');
    expect((failure as Error).message).toContain('noeviction');
    expect(await admin.dbsize()).toBe(0);
  });

  it('runs with allowEvictingRedis after a loud warning', async () => {
    const warnings: string[] = [];
    const store = redisStore({
      url: own.url,
      prefix: 'evict',
      allowEvictingRedis: true,
      onWarning: (message) => warnings.push(message),
    });
    const gatekeeper = createGatekeeperWithStore({ machines, store, sweepIntervalMs: 0 });
    const result = await gatekeeper.handle(order(1, 'order.placed', { total: 5 }));
    await gatekeeper.close();
    expect(result.outcome.outcome).toBe('applied');
    expect(warnings).toEqual([expect.stringMatching(/^WARNING: .*allkeys-lru.*allowed explicitly/)]);
  });

  it('is refused by `check` with exit 1, and accepted with --redis-allow-eviction and a warning on stderr', async () => {
    const stream = JSON.stringify(sequenced('order', 'o9')(1, 'order.placed', { total: 5 }));
    const refused = await runCli(['check', '--redis', own.url, '--redis-prefix', 'evict-cli'], stream);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--redis-allow-eviction');
    expect(refused.stdout).toBe('');
    const allowed = await runCli(
      ['check', '--redis', own.url, '--redis-prefix', 'evict-cli', '--redis-allow-eviction'],
      stream,
    );
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/^WARNING: /);
    expect(allowed.stdout).toContain('"applied"');
  });

  it('does not stop reading commands', async () => {
    const inspected = await runCli([
      'inspect',
      'order',
      'o9',
      '--redis',
      own.url,
      '--redis-prefix',
      'evict-cli',
    ]);
    expect(inspected.code).toBe(0);
    expect(inspected.stderr).toBe('');
  });
});

describe('lost data', () => {
  let own: OwnRedis;
  let admin: Redis;
  beforeAll(async () => {
    own = await startOwnRedis();
    admin = new Redis(own.url);
  });
  afterAll(async () => {
    await admin.quit();
    await own.destroy();
  });

  it('an entity committed before and gone after a flush is an error, not a fresh entity', async () => {
    const store = redisStore({ url: own.url, prefix: 'reset' });
    const gatekeeper = createGatekeeperWithStore({ machines, store, sweepIntervalMs: 0 });
    try {
      await gatekeeper.handle(order(1, 'order.placed', { total: 5 }));
      await gatekeeper.handle(order(2, 'order.paid', { amount: 5 }));
      await admin.flushall(); // our own throw-away server
      const failure = await gatekeeper.handle(order(3, 'order.shipped')).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreResetError);
      expect((failure as Error).message).toContain('lost data of prefix "reset"');
      expect(await admin.exists('{reset:0}:e:u5:ordero1')).toBe(0);
    } finally {
      await gatekeeper.close();
    }
  });

  it('with eviction allowed, an entity whose state alone was evicted is an error, not a fresh entity', async () => {
    const store = redisStore({
      url: own.url,
      prefix: 'evicted',
      allowEvictingRedis: true,
      onWarning: () => undefined,
    });
    const gatekeeper = createGatekeeperWithStore({
      machines,
      store,
      sweepIntervalMs: 0,
      maxResidentEntities: 1,
    });
    try {
      await gatekeeper.handle(order(1, 'order.placed', { total: 5 }));
      await gatekeeper.handle(sequenced('order', 'other')(1, 'order.placed', { total: 5 })); // o1 leaves memory
      const state = store.keys.entity({ aggregate: 'order', key: 'o1' }).state;
      expect(await admin.del(state)).toBe(1); // what an LRU eviction of that one key does
      const failure = await gatekeeper
        .handle(order(2, 'order.paid', { amount: 5 }))
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreResetError);
      expect((failure as Error).message).toContain(
        'the state (its history is still there) of order/o1 is gone',
      );
    } finally {
      await gatekeeper.close();
    }
  });

  it('a namespace whose shard markers are partly gone is refused at start', async () => {
    const first = redisStore({ url: own.url, prefix: 'partial' });
    await first.ready();
    await first.close();
    await admin.del('{partial:3}:marker', '{partial:11}:marker');
    const second = redisStore({ url: own.url, prefix: 'partial' });
    const failure = await second.ready().catch((error: unknown) => error);
    await second.close();
    expect(failure).toBeInstanceOf(StoreResetError);
    expect((failure as Error).message).toContain('2 of 16 shards (3, 11)');
  });

  it('a namespace created before shard markers existed gets them and keeps working', async () => {
    await admin.hset('{old}:meta', 'shards', '16', 'layout', '1');
    const store = redisStore({ url: own.url, prefix: 'old' });
    await store.ready();
    await store.close();
    expect(await admin.exists('{old:0}:marker', '{old:15}:marker')).toBe(2);
  });
});

describe('configuration and connection failures', () => {
  let own: OwnRedis;
  let admin: Redis;
  beforeAll(async () => {
    own = await startOwnRedis();
    admin = new Redis(own.url);
    admin.on('error', () => undefined); // the server is stopped in one test
  });
  afterAll(async () => {
    await admin.quit();
    await own.destroy();
  });

  it('a db index out of the server range is refused and nothing is written to db 0', async () => {
    await admin.flushall();
    const store = redisStore({ url: `${own.url}/16`, prefix: 'db' });
    const failure = await store.ready().catch((error: unknown) => error);
    await store.close();
    expect(failure).toBeInstanceOf(InvalidConfigError);
    expect((failure as Error).message).toContain('db index is out of range');
    expect(await admin.dbsize()).toBe(0);
    const cli = await runCli(['inspect', 'order', 'o1', '--redis', `${own.url}/abc`]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`url's db "abc"`);
    expect(cli.stderr).not.toContain('    at ');
  });

  it('a lost connection is reported as "connection to redis://… lost" with the cause', async () => {
    const store = redisStore({ url: own.url, prefix: 'lost' });
    await store.ready();
    await own.stop();
    try {
      const failure = await store.load({ aggregate: 'order', key: 'o1' }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect((failure as Error).message).toMatch(
        new RegExp(
          `connection to redis://127\\.0\\.0\\.1:${own.port} lost during load: .*(ECONNREFUSED|closed)`,
        ),
      );
      expect((failure as Error).message).not.toContain('max retries');
    } finally {
      await store.close();
      await own.start();
    }
  });

  it('a hung Redis (SIGSTOP) fails an operation within its deadline plus a small margin', async () => {
    const store = redisStore({ url: own.url, prefix: 'hung', operationTimeoutMs: 1_000 });
    await store.ready();
    const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const failure = await store.load({ aggregate: 'order', key: 'o1' }).catch((error: unknown) => error);
      const waited = Date.now() - started;
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect((failure as Error).message).toContain('no answer within 1000 ms');
      expect(waited).toBeLessThan(1_000 + 1_000);
      const closing = Date.now();
      await store.close();
      expect(Date.now() - closing).toBeLessThan(2_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});

describe('passwords', () => {
  const password = 'p@ss:w/rd';
  let own: OwnRedis;
  let dir: string;
  beforeAll(async () => {
    own = await startOwnRedis({ password });
    dir = mkdtempSync(join(tmpdir(), 'gk-pw-'));
  });
  afterAll(async () => {
    await own.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a password holding @, : and / in the url authenticates, and is never printed when anything fails', async () => {
    const url = own.url.replace('redis://', `redis://default:${password}@`);
    const ok = await runCli(['inspect', 'order', 'nope', '--redis', url]);
    expect(ok.stderr).toContain('no entity order/nope');
    const wrongPort = url.replace(`:${own.port}`, ':1');
    for (const bad of [wrongPort, `${url}/abc`, url.replace(`:${own.port}`, ':99999'), `${url}/16`]) {
      const failed = await runCli(['inspect', 'order', 'o1', '--redis', bad]);
      expect(failed.code).toBe(1);
      for (const part of ['p@ss', 'w/rd', ':w', password]) expect(failed.stderr).not.toContain(part);
    }
  });

  it('a password from --redis-password-file or a url from the environment authenticates', async () => {
    const file = join(dir, 'password');
    writeFileSync(file, `${password}\n`);
    const fromFile = await runCli([
      'inspect',
      'order',
      'nope',
      '--redis',
      own.url,
      '--redis-password-file',
      file,
    ]);
    expect(fromFile.stderr).toContain('no entity order/nope');
    const withoutIt = await runCli(['inspect', 'order', 'nope', '--redis', own.url]);
    expect(withoutIt.stderr).toMatch(/NOAUTH|WRONGPASS|Authentication/i);

    const { main } = await import('../../../src/cli/main.ts');
    const io = captureIO();
    io.env = { GK_TEST_REDIS: own.url.replace('redis://', `redis://:${encodeURIComponent(password)}@`) };
    const code = await main(['inspect', 'order', 'nope', '--redis', 'env:GK_TEST_REDIS'], io);
    expect(code).toBe(1);
    expect(io.err()).toContain('no entity order/nope');
    const unset = await runCli(['inspect', 'order', 'nope', '--redis', 'env:GK_UNSET_VARIABLE']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('GK_UNSET_VARIABLE is not set');
  });
});
